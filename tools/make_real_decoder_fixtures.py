#!/usr/bin/env python3
"""Turns a real pretrained decoder shipped as a llama.cpp GGUF file into a transformers folder, and writes
reference hidden states of it.

Usage (one family at a time; GGUF from tools/fetch_decoder_weights.sh):
  python tools/make_real_decoder_fixtures.py --gguf "$(tools/fetch_decoder_weights.sh smollm2)" \
      --hf-out /tmp/w/smollm2-hf --golden /tmp/w/smollm2.golden.safetensors [--shared ../shared] [--count 24]

Needs torch, transformers (>= 4.46; written against 5.24), safetensors and `gguf` (pip install gguf).

1. Conversion. transformers reads the GGUF (`from_pretrained(dir, gguf_file=...)`): the config comes
   from the GGUF metadata, the tokenizer from tokenizer.ggml.*, every tensor is dequantized to float32
   with gguf-py's `gguf.dequantize`, renamed from llama.cpp's names to transformers' ones, and, for
   llama.cpp architecture "llama" only, the rows of attn_q / attn_k are un-permuted (llama.cpp interleaves
   the two rotary halves of every head). The script then re-does that whole path by hand from the raw
   GGUF tensors (plain numpy, the recipe a Swift reader follows) and checks it gives bit-identical
   tensors, drops the GGUF `quantization_config` and saves config.json, model.safetensors (float32),
   tokenizer.json and tokenizer_config.json to --hf-out, plus gguf_tensor_map.json (GGUF name, ggml
   type, GGUF dims, transformers name, whether un-permuted).
2. Golden. The first --count sentences of ../shared/data/sst2/dev.tsv (column `sentence`, raw, with their
   trailing space), each tokenized alone by the saved AutoTokenizer (default special tokens, which add
   nothing for these two tokenizers; no padding, no truncation), run through AutoModel (the base model,
   no LM head) loaded back from --hf-out in float32 with eager attention:
     input_ids.<i>  int64  [n]
     hidden.<i>     float32 [n, hidden_size]   last_hidden_state[0] (after the final RMSNorm)
   The texts and provenance go into the safetensors metadata.
The --hf-out folder is also what tools/make_gguf_fixtures.py summarises into Fixtures/gguf/<model>.tensors.json (the
per-tensor golden Verdict's own GGUF reader is checked against in CI), and what GGUFTests compares every tensor with
bit for bit when VERDICT_GGUF_REFERENCE_DIR names the folder holding <model>-hf.
"""
import argparse, csv, json, os, sys

import numpy as np
import torch
from safetensors.torch import load_file, save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_gguf_fixtures import sha256  # noqa: E402  (numpy only)

torch.set_num_threads(2)
csv.field_size_limit(sys.maxsize)




def unpermute_rows(w, n_head):
    """Inverse of llama.cpp convert_hf_to_gguf.py `LlamaModel.permute`.

    llama.cpp stores, for each head h (head_dim = d), the rows of q_proj/k_proj interleaved:
        gguf row  h*d + 2*i + j   (i < d/2, j in {0, 1})
    holds
        HF   row  h*d + j*(d/2) + i
    i.e. within a head, HF's first half of rows are the even GGUF rows, its second half the odd ones.
    n_head is num_attention_heads for attn_q and num_key_value_heads for attn_k.
    """
    rows = w.shape[0]
    d2 = rows // n_head // 2
    return w.reshape(n_head, d2, 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def convert(gguf_path, out):
    import gguf
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.modeling_gguf_pytorch_utils import TENSOR_PROCESSORS, TensorProcessor, get_gguf_hf_weights_map

    folder, name = os.path.split(os.path.abspath(gguf_path))
    tok = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32).eval()
    cfg = model.config
    state = model.state_dict()

    reader = gguf.GGUFReader(gguf_path)
    arch = bytes(reader.fields["general.architecture"].parts[-1]).decode()
    processor = TENSOR_PROCESSORS.get(arch, TensorProcessor)(config=cfg.to_dict())
    name_map = get_gguf_hf_weights_map(model, processor)

    # Re-do the conversion by hand and compare: dequantize, reshape to the reversed GGUF dims
    # (GGUF lists ne0 = the contiguous dimension first, so [in, out] for a Linear weight, which in memory
    # is PyTorch's row-major [out, in]), un-permute q/k rows for "llama".
    entries = []
    for t in reader.tensors:
        hf = name_map.get(t.name)
        w = gguf.dequantize(t.data, t.tensor_type).reshape([int(x) for x in reversed(t.shape)])
        permuted = False
        if arch == "llama" and (".attn_q." in t.name or ".attn_k." in t.name):
            heads = cfg.num_attention_heads if ".attn_q." in t.name else cfg.num_key_value_heads
            w = unpermute_rows(w, heads)
            permuted = True
        entries.append({"gguf": t.name, "ggml_type": t.tensor_type.name, "ggml_type_id": int(t.tensor_type),
                        "gguf_dims": [int(x) for x in t.shape], "hf": hf, "unpermuted_rows": permuted})
        if hf is None:
            raise SystemExit(f"no transformers name for GGUF tensor {t.name}")
        ref = state[hf].numpy()
        if ref.shape != w.shape or not np.array_equal(ref, w):
            raise SystemExit(f"hand conversion of {t.name} differs from transformers' {hf}")
    hf_names = {e["hf"] for e in entries}
    missing = [k for k in state if k not in hf_names and not (cfg.tie_word_embeddings and k == "lm_head.weight")]
    if missing:
        raise SystemExit(f"transformers parameters with no GGUF tensor: {missing}")

    # A plain float32 checkpoint: no GGUF quantization_config, tied lm_head left to the config.
    if hasattr(cfg, "quantization_config"):
        del cfg.quantization_config
    model.hf_quantizer = None
    if hasattr(model, "is_quantized"):
        try:
            model.is_quantized = False
        except AttributeError:
            pass
    cfg.architectures = [type(model).__name__]
    cfg._name_or_path = ""
    os.makedirs(out, exist_ok=True)
    model.save_pretrained(out, safe_serialization=True)
    tok.save_pretrained(out)
    meta = {"source_gguf": os.path.basename(gguf_path), "source_sha256": sha256(gguf_path), "architecture": arch,
            "metadata": {k: _field(reader, k) for k in reader.fields if not k.startswith("tokenizer.ggml.")
                         or k in ("tokenizer.ggml.model", "tokenizer.ggml.pre", "tokenizer.ggml.bos_token_id",
                                  "tokenizer.ggml.eos_token_id", "tokenizer.ggml.padding_token_id",
                                  "tokenizer.ggml.unknown_token_id", "tokenizer.ggml.add_bos_token",
                                  "tokenizer.ggml.add_space_prefix")},
            "tensors": entries}
    with open(os.path.join(out, "gguf_tensor_map.json"), "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=1)
    return state


def _field(reader, key):
    import gguf
    f = reader.fields[key]
    if f.types and f.types[0] == gguf.GGUFValueType.ARRAY:
        return f"<array of {len(f.data)}>"
    v = f.parts[f.data[0]]
    if f.types[0] == gguf.GGUFValueType.STRING:
        s = bytes(v).decode("utf-8", "replace")
        return s if len(s) < 200 else s[:200] + "..."
    return v.tolist()[0]


def golden(hf_dir, texts, path, state=None, provenance=None):
    from transformers import AutoModel, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(hf_dir)
    model = AutoModel.from_pretrained(hf_dir, dtype=torch.float32, attn_implementation="eager").eval()
    if state is not None:  # the saved folder must hold exactly the converted tensors
        for k, v in model.state_dict().items():
            full = k if k in state else "model." + k
            if not torch.equal(v, state[full]):
                raise SystemExit(f"{k} changed on save/reload")
    tensors = {}
    with torch.no_grad():
        for i, text in enumerate(texts):
            ids = tok(text, return_tensors="pt")["input_ids"]
            hidden = model(input_ids=ids).last_hidden_state[0]
            tensors[f"input_ids.{i}"] = ids[0].to(torch.int64).contiguous()
            tensors[f"hidden.{i}"] = hidden.float().contiguous()
    meta = {"texts": json.dumps(texts), "count": str(len(texts)), "model": hf_dir,
            "reference": "transformers AutoModel last_hidden_state[0], float32, eager attention"}
    meta.update(provenance or {})
    save_file(tensors, path, metadata=meta)
    return tensors


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("--gguf", required=True)
    ap.add_argument("--hf-out", required=True)
    ap.add_argument("--golden", required=True)
    ap.add_argument("--shared", default=os.environ.get("VERDICT_SHARED", os.path.join(here, "..", "..", "shared")))
    ap.add_argument("--count", type=int, default=24)
    a = ap.parse_args()

    with open(os.path.join(a.shared, "data/sst2/dev.tsv"), newline="", encoding="utf-8") as f:
        texts = [r["sentence"] for r in csv.DictReader(f, delimiter="\t")][: a.count]
    state = convert(a.gguf, a.hf_out)
    t = golden(a.hf_out, texts, a.golden, state,
               {"source_gguf": os.path.basename(a.gguf), "source_sha256": sha256(a.gguf)})
    n = [t[f"input_ids.{i}"].numel() for i in range(len(texts))]
    print(f"{a.golden}: {len(texts)} texts, {sum(n)} tokens (min {min(n)}, max {max(n)}), "
          f"hidden {t['hidden.0'].shape[1]}")


if __name__ == "__main__":
    main()
