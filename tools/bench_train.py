#!/usr/bin/env python3
"""The PyTorch side of `verdict bench-train`: forward, backward, clipping and AdamW steps of
AutoModelForSequenceClassification at a fixed batch size and sequence length, 2 threads.

Usage: python tools/bench_train.py MODEL_DIR [--batch-size 16] [--seq-len 128] [--steps 10]
"""
import argparse, time
import torch
from transformers import AutoModelForSequenceClassification

ap = argparse.ArgumentParser()
ap.add_argument("model")
ap.add_argument("--batch-size", type=int, default=16)
ap.add_argument("--seq-len", type=int, default=128)
ap.add_argument("--steps", type=int, default=10)
ap.add_argument("--threads", type=int, default=2)
args = ap.parse_args()
torch.set_num_threads(args.threads)
torch.manual_seed(0)
model = AutoModelForSequenceClassification.from_pretrained(args.model, num_labels=2)
model.train()
vocab = model.config.vocab_size
ids = torch.randint(1000, vocab, (args.batch_size, args.seq_len))
ids[:, 0], ids[:, -1] = 101, 102
labels = torch.arange(args.batch_size) % 2
opt = torch.optim.AdamW(model.parameters(), lr=5e-5, weight_decay=0.01)


def step():
    loss = model(input_ids=ids, attention_mask=torch.ones_like(ids), labels=labels).loss
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    opt.zero_grad()


step()
t = time.perf_counter()
for _ in range(args.steps):
    step()
s = time.perf_counter() - t
print(f"pytorch: batch {args.batch_size} x {args.seq_len} tokens, {args.steps} steps in {s:.2f} s: "
      f"{args.steps * args.batch_size / s:.1f} samples/s ({s / args.steps * 1000:.0f} ms/step), threads {args.threads}")
