#!/usr/bin/env python3
"""Time per token of a model on long inputs (512 / 1,024 / 4,096 tokens), Verdict vs PyTorch, same run:
the linear-cost check of Longformer's sliding-window attention (docs/Models.md).

Usage: python tools/bench_long_inputs.py MODEL_DIR VERDICT_BINARY [--lengths 512,1024,4096] [--texts 4]

Builds texts of exactly N tokens from the Amazon book reviews of ../shared (the tokenizer decides where to cut),
writes them to a TSV, then times `verdict bench-classify` on it and transformers' pipeline on the same texts
(2 threads, batch 1, best of 2), and prints milliseconds per token for each length.
"""
import argparse, csv, os, subprocess, sys, tempfile, time

import torch
from transformers import AutoTokenizer, pipeline

csv.field_size_limit(sys.maxsize)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("verdict")
    ap.add_argument("--lengths", default="512,1024,4096")
    ap.add_argument("--texts", type=int, default=4)
    ap.add_argument("--shared", default="../shared")
    args = ap.parse_args()
    torch.set_num_threads(2)
    tok = AutoTokenizer.from_pretrained(args.model)
    with open(os.path.join(args.shared, "data/amazon-reviews/books/train.tsv"), newline="", encoding="utf-8") as f:
        corpus = " ".join(r["sentence"] for r in csv.DictReader(f, delimiter="\t"))
    ids = tok(corpus, add_special_tokens=False)["input_ids"]
    clf = pipeline("text-classification", model=args.model, tokenizer=tok, device="cpu", dtype=torch.float32)
    print(f"{'tokens':>7} {'verdict ms/token':>17} {'pytorch ms/token':>17}")
    for n in map(int, args.lengths.split(",")):
        texts = [tok.decode(ids[i * n:(i + 1) * n - 2]) for i in range(args.texts)]
        with tempfile.NamedTemporaryFile("w", suffix=".tsv", delete=False, encoding="utf-8") as f:
            w = csv.writer(f, delimiter="\t")
            w.writerow(["sentence"])
            for t in texts:
                w.writerow([t.replace("\t", " ").replace("\n", " ")])
        out = subprocess.run([args.verdict, "bench-classify", "--model", args.model, "--input", f.name, "--batch-size", "1",
                              "--repeats", "2", "--latency-repeats", "1"], capture_output=True, text=True, check=True).stdout
        line = [l for l in out.splitlines() if l.startswith("verdict:")][0]
        tokens, seconds = int(line.split("(")[1].split()[0]), float(line.split(" in ")[1].split()[0])
        best = float("inf")
        with torch.inference_mode():
            for _ in range(2):
                t = time.perf_counter()
                clf(texts, batch_size=1, truncation=True)
                best = min(best, time.perf_counter() - t)
        os.unlink(f.name)
        print(f"{tokens // len(texts):>7} {seconds / tokens * 1000:>17.3f} {best / tokens * 1000:>17.3f}")


if __name__ == "__main__":
    main()
