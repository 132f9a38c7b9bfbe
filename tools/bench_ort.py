#!/usr/bin/env python3
"""ONNX Runtime side of tools/bench_compare.sh: the model exported to ONNX and run three ways on CPU.

Usage: python tools/bench_ort.py MODEL_DIR FILE.tsv [--limit N] [--threads 2] [--column sentence]
                                 [--label-column label] [--repeats 3] [--cache DIR]
                                 [--variants ort-fp32,ort-opt,ort-int8] [--int8-per-channel] [--prepare-only]
                                 [--score-jsonl OUT.jsonl --name NAME]

Variants (each an onnxruntime.InferenceSession, CPU, intra_op_num_threads=THREADS, inter_op 1, sequential):
  ort-fp32  the exported graph (torch.onnx.export, legacy TorchScript exporter, opset 17, dynamic batch and
            sequence axes), graph optimisation level ORT_ENABLE_ALL;
  ort-opt   the same after onnxruntime.transformers.optimizer.optimize_model(model_type='bert') (fused
            Attention / SkipLayerNormalization / BiasGelu ...), ORT_ENABLE_ALL;
  ort-int8  onnxruntime.quantization.quantize_dynamic(weight_type=QInt8; per tensor, or per channel with
            reduce_range under --int8-per-channel) of the optimised graph (of the plain one if quantizing the
            optimised graph fails; a `note:` line says which), ORT_ENABLE_ALL.
Texts are tokenized by the model's fast tokenizer as the transformers pipeline does (truncation to the model
maximum, batches of 32 in input order padded to their longest text): tokenizer.json through `tokenizers`, set up
as transformers sets it up, and checked identical to AutoTokenizer's inputs on every batch when the reference is
computed. The timed loop includes tokenization and the softmax. Throughput is the best of --repeats passes over the file, latency the best of 30 calls on
"I really love this book". Scores of every text are compared with PyTorch fp32 (AutoModelForSequenceClassification
on the same batches; cached), and accuracy is reported when the file has a label column.

Exports, optimised and quantized graphs and the PyTorch reference scores are cached in --cache (default
MODEL_DIR/../.ort-cache/<model name>); they are rebuilt when the checkpoint or the torch, transformers or onnxruntime version changes.
With --variants, only those variants run (tools/bench_compare.sh runs each in its own process for its peak
RSS; torch is then not imported at all once the cache is ready). --prepare-only builds the cache and exits.
--score-jsonl OUT.jsonl compares the top-1 label and score of each line of `verdict classify --json` on the same
texts with the reference instead, printing `NAME: 872 texts; max score diff 2.1e-06; accuracy 0.8956`.

Output, one line per variant (fixed format, parsed by tools/bench_compare.sh):
  ort-fp32: 872 texts in 5.123 s: 170.2 texts/s; one sentence 1.23 ms; max score diff 1.2e-06; accuracy 0.9014; threads 2
("accuracy n/a" without labels), plus `note:` lines describing the graphs.
"""
import argparse, csv, hashlib, json, os, sys, time

import numpy as np

csv.field_size_limit(sys.maxsize)

VARIANTS = ("ort-fp32", "ort-opt", "ort-int8")
OPSET = 17
BATCH = 32
LATENCY_TEXT = "I really love this book"
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin", "config.json")


def note(msg):
    print(f"note: {msg}", flush=True)


# ---------------------------------------------------------------------------------------------- inputs

def read_rows(path, column, label_column, limit):
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    rows = rows[:limit] if limit else rows
    texts = [r[column] for r in rows]
    labels = [r[label_column] for r in rows] if rows and label_column in rows[0] else None
    return texts, labels


def batches(texts):
    for i in range(0, len(texts), BATCH):
        yield texts[i:i + BATCH]


class PipelineTokenizer:
    """The model's tokenizer.json through `tokenizers`, set up exactly as transformers' fast tokenizer sets it
    for `tokenizer(batch, padding=True, truncation=True)` (which is what the pipeline's batches amount to):
    truncation longest-first to model_max_length, padding to the batch's longest with the pad token. It keeps
    transformers, and with it torch, out of the timed processes; reference_scores() checks that its ids, masks
    and token types equal AutoTokenizer's on every batch of the file."""

    def __init__(self, model_dir):
        from tokenizers import Tokenizer
        cfg = {}
        for name in ("special_tokens_map.json", "tokenizer_config.json"):  # the latter wins, as in transformers
            path = os.path.join(model_dir, name)
            if os.path.exists(path):
                with open(path) as f:
                    cfg.update(json.load(f))
        self.tok = Tokenizer.from_file(os.path.join(model_dir, "tokenizer.json"))
        self.tok.no_truncation()
        self.tok.no_padding()
        max_length = cfg.get("model_max_length")
        if max_length and max_length < 1e12:  # transformers: no model maximum, no truncation
            self.tok.enable_truncation(max_length=int(max_length), stride=0, strategy="longest_first",
                                       direction=cfg.get("truncation_side", "right"))
        pad = cfg.get("pad_token")
        pad = pad.get("content") if isinstance(pad, dict) else pad
        if pad is not None and self.tok.token_to_id(pad) is not None:
            self.tok.enable_padding(direction=cfg.get("padding_side", "right"), pad_id=self.tok.token_to_id(pad),
                                    pad_type_id=0, pad_token=pad)

    def __call__(self, texts):
        encs = self.tok.encode_batch(list(texts), add_special_tokens=True)
        return {"input_ids": np.array([e.ids for e in encs], dtype=np.int64),
                "attention_mask": np.array([e.attention_mask for e in encs], dtype=np.int64),
                "token_type_ids": np.array([e.type_ids for e in encs], dtype=np.int64)}


def hf_tokenizer(model_dir):
    from transformers import AutoTokenizer  # imports torch (transformers 5)
    return AutoTokenizer.from_pretrained(model_dir)  # the fast one, as the pipeline uses


def file_stamp(path):
    st = os.stat(path)
    return f"{os.path.abspath(path)}:{st.st_size}:{int(st.st_mtime)}"


def score_function(config):
    """The pipeline's default function_to_apply: sigmoid for multi-label or one label, else softmax."""
    sigmoid = config.get("problem_type") == "multi_label_classification" or len(config.get("id2label", {0: 0, 1: 1})) == 1
    if sigmoid:
        return lambda z: 1.0 / (1.0 + np.exp(-z))

    def softmax(z):
        e = np.exp(z - z.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)
    return softmax


def accuracy(logits, labels, config):
    """Top-1 accuracy; labels are class ids ("0", "1") or label names ("POSITIVE")."""
    if labels is None:
        return None
    id2label = {int(k): v for k, v in config.get("id2label", {}).items()}
    predicted = logits.argmax(axis=-1)
    hits = 0
    for p, y in zip(predicted, labels):
        y = y.strip()
        hits += (int(y) == int(p)) if y.lstrip("-").isdigit() else (y == id2label.get(int(p)))
    return hits / len(labels)


# ---------------------------------------------------------------------------------------------- cache

def cache_key(model_dir):
    """Checkpoint files and library versions (read without importing torch)."""
    from importlib.metadata import version
    parts = [file_stamp(os.path.join(model_dir, f)) for f in WEIGHT_FILES if os.path.exists(os.path.join(model_dir, f))]
    parts.append("; ".join(f"{p} {version(p)}" for p in ("torch", "transformers", "onnxruntime")) + f"; opset {OPSET}")
    return "\n".join(parts)


def torch_model(model_dir):
    import torch
    from transformers import AutoModelForSequenceClassification
    # Eager attention exports as the MatMul/Softmax pattern the ORT transformer optimiser fuses.
    model = AutoModelForSequenceClassification.from_pretrained(model_dir, dtype=torch.float32, attn_implementation="eager")
    return model.eval()


def model_input_names(model):
    import inspect
    params = inspect.signature(model.forward).parameters
    return [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in params]


def export(model_dir, path):
    import torch
    tokenizer = hf_tokenizer(model_dir)
    model = torch_model(model_dir)
    names = model_input_names(model)

    class Logits(torch.nn.Module):  # positional inputs in `names` order -> logits
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, *inputs):
            return self.m(**dict(zip(names, inputs))).logits

    enc = tokenizer(["I really love this book", "a second, longer sentence to give the dummy batch some padding ."],
                    padding=True, truncation=True, return_tensors="pt")
    args = tuple(enc[n] for n in names)
    axes = {n: {0: "batch", 1: "sequence"} for n in names}
    axes["logits"] = {0: "batch"}
    with torch.inference_mode():
        torch.onnx.export(Logits(model), args, path, input_names=names, output_names=["logits"],
                          dynamic_axes=axes, opset_version=OPSET, do_constant_folding=True, dynamo=False)
    return f"ort-fp32: torch.onnx.export (torch {torch.__version__}, TorchScript exporter, eager attention, opset {OPSET}, inputs {', '.join(names)})"


def optimise(model_dir, src, dest):
    from onnxruntime.transformers.optimizer import optimize_model
    with open(os.path.join(model_dir, "config.json")) as f:
        config = json.load(f)
    heads = config.get("num_attention_heads", config.get("n_heads"))
    hidden = config.get("hidden_size", config.get("dim"))
    opt = optimize_model(src, model_type="bert", num_heads=heads, hidden_size=hidden)
    opt.save_model_to_file(dest)
    fused = {k: v for k, v in opt.get_fused_operator_statistics().items() if v}
    return fused


def quantize(src, dest, per_channel):
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic
    # The fused contrib ops (Attention, SkipLayerNormalization...) defeat ONNX shape inference, which leaves
    # their outputs untyped: DefaultTensorType tells the quantizer they are float.
    extra = {"per_channel": True, "reduce_range": True} if per_channel else {}
    quantize_dynamic(src, dest, weight_type=QuantType.QInt8, extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT}, **extra)


def prepare(model_dir, cache, per_channel):
    """Export / optimise / quantize into `cache` what is missing or stale; returns the variant -> file map."""
    os.makedirs(cache, exist_ok=True)
    int8 = "ort-int8-per-channel.onnx" if per_channel else "ort-int8.onnx"
    files = {"ort-fp32": "ort-fp32.onnx", "ort-opt": "ort-opt.onnx", "ort-int8": int8}
    files = {v: os.path.join(cache, f) for v, f in files.items()}
    meta_path = os.path.join(cache, "meta.json")
    key = cache_key(model_dir)
    meta = json.load(open(meta_path)) if os.path.exists(meta_path) else {}
    if meta.get("key") != key:  # another checkpoint or library version: start again
        for f in os.listdir(cache):
            if f.endswith(".onnx") or f.endswith(".npy") or f.endswith(".data"):
                os.remove(os.path.join(cache, f))
        meta = {"key": key, "notes": {}}
    notes = meta["notes"]
    if not os.path.exists(files["ort-fp32"]):
        notes["ort-fp32"] = export(model_dir, files["ort-fp32"])
    if not os.path.exists(files["ort-opt"]):
        try:
            fused = optimise(model_dir, files["ort-fp32"], files["ort-opt"])
            notes["ort-opt"] = "ort-opt: transformer optimiser (model_type bert) fused " + (
                ", ".join(f"{k} {v}" for k, v in sorted(fused.items())) or "nothing")
        except Exception as e:  # keep going with the plain graph so that the other variants still run
            import shutil
            shutil.copy(files["ort-fp32"], files["ort-opt"])
            notes["ort-opt"] = f"ort-opt: transformer optimiser failed ({type(e).__name__}: {e}); ort-opt is the plain graph"
    if not os.path.exists(files["ort-int8"]):
        how = "per-channel, reduce_range" if per_channel else "per-tensor"
        try:
            quantize(files["ort-opt"], files["ort-int8"], per_channel)
            notes[int8] = f"ort-int8: quantize_dynamic QInt8 weights ({how}) of the optimised graph"
        except Exception as e:
            quantize(files["ort-fp32"], files["ort-int8"], per_channel)
            notes[int8] = (f"ort-int8: quantizing the optimised graph failed ({type(e).__name__}: {e}); "
                           f"quantize_dynamic QInt8 ({how}) of the plain graph")
    with open(meta_path, "w") as f:
        json.dump(meta, f, indent=1)
    for n in ("ort-fp32", "ort-opt", int8):
        note(notes.get(n, f"{n}: (no record)"))
    return files


def reference_scores(model_dir, cache, input_path, args, texts, tokenizer, scores_of):
    """PyTorch fp32 scores of every text (AutoTokenizer, same batches), cached per input file and limit.
    Checks on the way that `tokenizer` (the one timed) gives exactly AutoTokenizer's inputs."""
    tag = hashlib.sha1(f"{cache_key(model_dir)}\n{file_stamp(input_path)}\n{args.column}\n{args.limit}".encode()).hexdigest()[:16]
    path = os.path.join(cache, f"reference-{tag}.npy")
    if os.path.exists(path):
        return np.load(path)
    import torch
    torch.set_num_threads(args.threads)
    hf = hf_tokenizer(model_dir)
    model = torch_model(model_dir)
    names = model_input_names(model)
    out = []
    with torch.inference_mode():
        for i, batch in enumerate(batches(texts)):
            enc = hf(batch, padding=True, truncation=True, return_tensors="pt")
            mine = tokenizer(batch)
            for n in names:
                if n in enc and not np.array_equal(enc[n].numpy(), mine[n]):
                    sys.exit(f"bench_ort.py: {n} of batch {i} differs from AutoTokenizer's")
            out.append(model(**{n: enc[n] for n in names}).logits.float().numpy())
    scores = scores_of(np.concatenate(out))
    np.save(path, scores)
    return scores


# ---------------------------------------------------------------------------------------------- timing

def session(path, threads):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def classify(sess, names, tokenizer, texts, scores_of):
    """What the pipeline does per batch: tokenize (pad to the batch's longest, truncate), run, scores."""
    out = []
    for batch in batches(texts):
        enc = tokenizer(batch)
        logits = sess.run(["logits"], {n: enc[n] for n in names})[0]
        out.append(logits)
    logits = np.concatenate(out)
    return logits, scores_of(logits)


def run_variant(name, path, args, tokenizer, texts, labels, config, reference, scores_of):
    sess = session(path, args.threads)
    names = [i.name for i in sess.get_inputs()]
    classify(sess, names, tokenizer, texts[:8], scores_of)  # warm-up, as bench-classify and bench_classify.py do
    best, logits, scores = float("inf"), None, None
    for _ in range(max(1, args.repeats)):
        t = time.perf_counter()
        logits, scores = classify(sess, names, tokenizer, texts, scores_of)
        best = min(best, time.perf_counter() - t)
    latency = float("inf")
    for _ in range(30):
        t = time.perf_counter()
        classify(sess, names, tokenizer, [LATENCY_TEXT], scores_of)
        latency = min(latency, time.perf_counter() - t)
    diff = float(np.abs(scores - reference).max()) if reference is not None else float("nan")
    acc = accuracy(logits, labels, config)
    acc_text = f"{acc:.4f}" if acc is not None else "n/a"
    print(f"{name}: {len(texts)} texts in {best:.3f} s: {len(texts) / best:.1f} texts/s; one sentence {latency * 1000:.2f} ms; "
          f"max score diff {diff:.1e}; accuracy {acc_text}; threads {args.threads}", flush=True)


def score_jsonl(name, path, texts, labels, config, reference):
    """Compares `verdict classify --json` output (top-1 label and score per line) with the PyTorch reference."""
    label2id = {v: int(k) for k, v in config.get("id2label", {}).items()}
    with open(path, encoding="utf-8") as f:
        lines = [json.loads(line) for line in f if line.strip()]
    if len(lines) != len(texts):
        sys.exit(f"bench_ort.py: {path} has {len(lines)} lines for {len(texts)} texts")
    diff, hits = 0.0, 0
    for i, line in enumerate(lines):
        top = line["labels"][0]
        j = label2id[top["label"]]
        diff = max(diff, abs(top["score"] - float(reference[i, j])))
        if labels is not None:
            y = labels[i].strip()
            hits += (int(y) == j) if y.lstrip("-").isdigit() else (y == top["label"])
    acc_text = f"{hits / len(lines):.4f}" if labels is not None else "n/a"
    print(f"{name}: {len(lines)} texts; max score diff {diff:.1e}; accuracy {acc_text}", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model")
    ap.add_argument("input")
    ap.add_argument("--column", default="sentence")
    ap.add_argument("--label-column", default="label")
    ap.add_argument("--limit", type=int)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--cache", help="default: MODEL_DIR/../.ort-cache/<model name>")
    ap.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated subset of " + ", ".join(VARIANTS))
    ap.add_argument("--int8-per-channel", action="store_true",
                    help="quantize per output channel with reduce_range (Verdict's int8 scheme) instead of per tensor")
    ap.add_argument("--score-jsonl", metavar="OUT.jsonl",
                    help="instead of timing, compare a `verdict classify --json` output of the same texts with PyTorch")
    ap.add_argument("--name", default="verdict", help="line prefix for --score-jsonl")
    ap.add_argument("--prepare-only", action="store_true", help="build the cached graphs and reference scores, then exit")
    args = ap.parse_args()
    variants = [v for v in args.variants.split(",") if v]
    unknown = set(variants) - set(VARIANTS)
    if unknown:
        ap.error(f"unknown variants: {', '.join(sorted(unknown))}")
    model_dir = os.path.abspath(args.model)
    cache = args.cache or os.path.join(os.path.dirname(model_dir), ".ort-cache", os.path.basename(model_dir))

    if os.path.exists(os.path.join(model_dir, "tokenizer.json")):
        tokenizer = PipelineTokenizer(model_dir)
    else:  # no tokenizer.json: transformers converts the slow files itself
        hf = hf_tokenizer(model_dir)
        tokenizer = lambda batch: dict(hf(batch, padding=True, truncation=True, return_tensors="np"))
        note("no tokenizer.json: timing transformers' AutoTokenizer (torch is imported)")
    with open(os.path.join(model_dir, "config.json")) as f:
        config = json.load(f)
    scores_of = score_function(config)
    texts, labels = read_rows(args.input, args.column, args.label_column, args.limit)

    files = prepare(model_dir, cache, args.int8_per_channel)
    reference = reference_scores(model_dir, cache, args.input, args, texts, tokenizer, scores_of)
    if args.score_jsonl:
        score_jsonl(args.name, args.score_jsonl, texts, labels, config, reference)
        return
    if args.prepare_only:
        return
    for v in variants:
        run_variant(v, files[v], args, tokenizer, texts, labels, config, reference, scores_of)


if __name__ == "__main__":
    main()
