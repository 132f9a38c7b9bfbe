#!/usr/bin/env python3
"""Reference gradients and optimizer steps for Verdict's training tests, from PyTorch.

Usage: python tools/make_training_fixtures.py --out Fixtures/training  (after make_model_fixtures.py)

For the tiny BERT and DistilBERT classifiers of Fixtures/models (dropout off), on a fixed batch
of 6 texts, for each problem type (single-label, multi-label, regression):
  <model>.<problem>.grads.safetensors   loss (`loss`) and the gradient of every parameter (`grad.<name>`);
                                        for regression also the freshly initialised head (`param.<name>`)
Then, single-label only: 20 AdamW steps (lr 1e-3, weight decay 0.01 except biases and LayerNorm
weights, linear schedule with 5 warmup steps, max_grad_norm 1.0) on alternating batches:
  <model>.adamw20.safetensors           the weights after the 20 steps
texts/labels in training.golden.json. Custom heads (see custom_heads): <model>.custom-<pooling>.grads.safetensors.
"""
import argparse, json, os
import torch
from safetensors.torch import save_file
from transformers import AutoModel, AutoTokenizer, AutoModelForSequenceClassification, get_linear_schedule_with_warmup

torch.set_num_threads(2)
TEXTS = ["a gripping, funny and moving film", "dull and lifeless", "i really love this book", "the worst movie of the year",
         "not bad at all", "an uneven but often brilliant debut"]
SINGLE = [2, 0, 2, 0, 1, 2]
MULTI = [[1, 0, 1], [0, 1, 0], [1, 1, 0], [0, 0, 1], [1, 0, 0], [0, 1, 1]]
REGRESSION = [0.9, 0.1, 0.8, 0.0, 0.6, 0.7]


def load(path, problem):
    kw = {"hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0} if "distil" not in path else {"dropout": 0.0, "attention_dropout": 0.0, "seq_classif_dropout": 0.0}
    if problem == "regression":
        kw.update(num_labels=1, id2label={0: "LABEL_0"}, label2id={"LABEL_0": 0}, ignore_mismatched_sizes=True)
    kw["problem_type"] = problem
    torch.manual_seed(0)
    return AutoModelForSequenceClassification.from_pretrained(path, **kw).float()


def labels_for(problem):
    if problem == "single_label_classification":
        return torch.tensor(SINGLE)
    if problem == "multi_label_classification":
        return torch.tensor(MULTI, dtype=torch.float32)
    return torch.tensor(REGRESSION)


class CustomHead(torch.nn.Module):
    """Verdict's custom head: pooling ([CLS], masked mean or BERT's pooler), Linear, ReLU, Dropout, Linear."""

    def __init__(self, hidden, width, labels, pooling):
        super().__init__()
        self.pooling = pooling
        self.dense = torch.nn.Linear(hidden, width)
        self.out_proj = torch.nn.Linear(width, labels)

    def forward(self, outputs, mask):
        if self.pooling == "cls":
            x = outputs.last_hidden_state[:, 0]
        elif self.pooling == "mean":
            m = mask.unsqueeze(-1).float()
            x = (outputs.last_hidden_state * m).sum(1) / m.sum(1)
        else:
            x = outputs.pooler_output
        return self.out_proj(torch.relu(self.dense(x)))


def custom_heads(args):
    """<model>.custom-<pooling>.grads.safetensors: loss, `grad.<name>` for every parameter (zeros where
    PyTorch has none, e.g. an unused pooler) and the head's initial weights (`param.classifier.*`)."""
    for name, poolings in [("tiny-bert-safetensors-fp32", ["cls", "mean", "pooler"]), ("tiny-distilbert-safetensors-fp32", ["cls", "mean"])]:
        path = os.path.join(args.models, name)
        tok = AutoTokenizer.from_pretrained(path)
        enc = tok(TEXTS, padding=True, return_tensors="pt")
        for pooling in poolings:
            torch.manual_seed(1)
            kw = {"hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0} if "distil" not in name else {"dropout": 0.0, "attention_dropout": 0.0}
            base = AutoModel.from_pretrained(path, **kw).float()
            base.train()
            head = CustomHead(base.config.hidden_size if hasattr(base.config, "hidden_size") else base.config.dim, 16, 3, pooling)
            prefix = "bert." if "distil" not in name else "distilbert."
            logits = head(base(**enc), enc["attention_mask"])
            loss = torch.nn.functional.cross_entropy(logits, torch.tensor(SINGLE))
            loss.backward()
            tensors = {"loss": loss.detach().reshape(1)}
            for n, p in base.named_parameters():
                tensors["grad." + prefix + n] = (p.grad if p.grad is not None else torch.zeros_like(p)).detach().contiguous()
            for n, p in head.named_parameters():
                tensors["grad.classifier." + n] = p.grad.detach().contiguous()
                tensors["param.classifier." + n] = p.detach().contiguous()
            save_file(tensors, os.path.join(args.out, f"{name}.custom-{pooling}.grads.safetensors"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default="Fixtures/models")
    ap.add_argument("--out", default="Fixtures/training")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    for name in ["tiny-bert-safetensors-fp32", "tiny-distilbert-safetensors-fp32"]:
        path = os.path.join(args.models, name)
        tok = AutoTokenizer.from_pretrained(path)
        enc = tok(TEXTS, padding=True, return_tensors="pt")
        for problem in ["single_label_classification", "multi_label_classification", "regression"]:
            model = load(path, problem)
            model.train()
            out = model(**enc, labels=labels_for(problem))
            out.loss.backward()
            tensors = {"loss": out.loss.detach().reshape(1)}
            if problem == "regression":  # the 1-label head is new: store it so Verdict starts from the same weights
                for n, p in model.named_parameters():
                    if "classifier" in n:
                        tensors["param." + n] = p.detach().contiguous()
            for n, p in model.named_parameters():
                if p.grad is not None:
                    tensors["grad." + n] = p.grad.detach().contiguous()
            save_file(tensors, os.path.join(args.out, f"{name}.{problem}.grads.safetensors"))
        model = load(path, "single_label_classification")
        model.train()
        decay = [p for n, p in model.named_parameters() if not (n.endswith(".bias") or "LayerNorm" in n or "layer_norm" in n)]
        no_decay = [p for n, p in model.named_parameters() if n.endswith(".bias") or "LayerNorm" in n or "layer_norm" in n]
        opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}], lr=1e-3)
        sched = get_linear_schedule_with_warmup(opt, 5, 20)
        halves = [(slice(0, 3)), (slice(3, 6))]
        for step in range(20):
            sl = halves[step % 2]
            batch = tok(TEXTS[sl], padding=True, return_tensors="pt")
            loss = model(**batch, labels=torch.tensor(SINGLE[sl])).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            opt.zero_grad()
        save_file({n: p.detach().contiguous() for n, p in model.named_parameters()}, os.path.join(args.out, f"{name}.adamw20.safetensors"))
    custom_heads(args)
    with open(os.path.join(args.out, "training.golden.json"), "w") as f:
        json.dump({"texts": TEXTS, "single": SINGLE, "multi": MULTI, "regression": REGRESSION}, f)


if __name__ == "__main__":
    main()
