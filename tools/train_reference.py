#!/usr/bin/env python3
"""The PyTorch `Trainer` run of a Verdict recipe (same base, data, epochs, batch size, learning
rate, schedule, weight decay, seed, max length), for the comparison in docs/Training.md.

Usage: /usr/bin/time -v python tools/train_reference.py recipes/default-sentiment.json OUTPUT_DIR
(a recipe may hold "max_steps", as `verdict train --max-steps`; a decoder base needs pad_token_id in its config)
Prints dev accuracy and wall time; run it under `/usr/bin/time -v` for the peak memory.
"""
import csv, json, math, sys, time
import numpy as np
import torch
from transformers import (AutoModelForSequenceClassification, AutoTokenizer, DataCollatorWithPadding, Trainer,
                          TrainingArguments)

csv.field_size_limit(sys.maxsize)
torch.set_num_threads(2)
recipe = json.load(open(sys.argv[1]))
out = sys.argv[2]


def read(path):
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    return [r[recipe["text_column"]] for r in rows], [int(r[recipe["label_column"]]) for r in rows]


tok = AutoTokenizer.from_pretrained(recipe["model"])
labels = recipe["labels"]
model = AutoModelForSequenceClassification.from_pretrained(recipe["model"], num_labels=len(labels),
                                                           id2label=dict(enumerate(labels)), label2id={l: i for i, l in enumerate(labels)})


class TextDataset(torch.utils.data.Dataset):
    def __init__(self, path):
        texts, self.labels = read(path)
        self.enc = tok(texts, truncation=True, max_length=recipe["max_length"])

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        # What the tokenizer returns (no token_type_ids for RoBERTa-style and MPNet tokenizers), and the label.
        return {**{k: v[i] for k, v in self.enc.items()}, "labels": self.labels[i]}


train, dev = TextDataset(recipe["train"]), TextDataset(recipe["eval"])
# transformers 5 dropped `warmup_ratio`; Verdict's rule (and transformers 4's): ceil(total steps * ratio).
max_steps = recipe.get("max_steps", -1)   # as `verdict train --max-steps`: stops early, the schedule spans max_steps
total_steps = max_steps if max_steps > 0 else math.ceil(len(train) / recipe["per_device_train_batch_size"]) * recipe["num_train_epochs"]
warmup_steps = math.ceil(total_steps * recipe.get("warmup_ratio", 0))
args = TrainingArguments(output_dir=out, learning_rate=recipe["learning_rate"], per_device_train_batch_size=recipe["per_device_train_batch_size"],
                         per_device_eval_batch_size=recipe["per_device_eval_batch_size"], num_train_epochs=recipe["num_train_epochs"],
                         weight_decay=recipe["weight_decay"], warmup_steps=warmup_steps, lr_scheduler_type=recipe["lr_scheduler_type"],
                         eval_strategy="no", save_strategy="no", logging_steps=recipe["logging_steps"], seed=recipe["seed"],
                         max_grad_norm=recipe["max_grad_norm"], max_steps=max_steps, use_cpu=True, report_to=[], dataloader_num_workers=0)
trainer = Trainer(model=model, args=args, train_dataset=train, data_collator=DataCollatorWithPadding(tok),
                  compute_metrics=lambda p: {"accuracy": float((np.argmax(p.predictions, -1) == p.label_ids).mean())})
t = time.time()
trainer.train()
train_time = time.time() - t
metrics = trainer.evaluate(dev)
samples = max_steps * recipe["per_device_train_batch_size"] if max_steps > 0 else len(train) * recipe["num_train_epochs"]
print(json.dumps({"train_seconds": train_time, "samples_per_second": samples / train_time, **metrics}))
