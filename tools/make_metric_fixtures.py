#!/usr/bin/env python3
"""Golden classification metrics from scikit-learn for Verdict's metric parity tests.

Usage: python tools/make_metric_fixtures.py Fixtures/metrics/sklearn.golden.jsonl.gz
(also writes sklearn.multilabel.golden.jsonl.gz beside it)

1,000 random cases: 2-10 classes, 1-80 samples, classes missing from the predictions and/or
from the truth, sometimes an explicit `labels` list (with labels that never occur), zero_division
0 or 1, digits 2 or 4, with or without target names. Each line holds the inputs and every metric,
the classification report both as text and as values (`output_dict=True`).
"""
import gzip, json, random, sys
import numpy as np
import sklearn
from sklearn.metrics import (accuracy_score, balanced_accuracy_score, classification_report, confusion_matrix,
                             hamming_loss, precision_recall_fscore_support, roc_auc_score)
import warnings

warnings.filterwarnings("ignore")


def prfs(y, p, **kw):
    r = precision_recall_fscore_support(y, p, **kw)
    return [None if v is None else (np.asarray(v).tolist()) for v in r]


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "Fixtures/metrics/sklearn.golden.jsonl.gz"
    rng = random.Random(1234)
    with gzip.open(out, "wt", encoding="utf-8") as f:
        for case in range(1000):
            k = rng.randint(2, 10)
            n = rng.randint(1, 80)
            true_classes = rng.sample(range(k), rng.randint(1, k))
            pred_classes = rng.sample(range(k), rng.randint(1, k))
            y = [rng.choice(true_classes) for _ in range(n)]
            p = [t if rng.random() < 0.5 and t in pred_classes else rng.choice(pred_classes) for t in y]
            labels = sorted(set(rng.sample(range(k + 2), rng.randint(1, k + 2))) | {y[0]}) if case % 5 == 0 else None
            zd = rng.choice([0.0, 1.0])
            digits = rng.choice([2, 4])
            used = labels if labels is not None else sorted(set(y) | set(p))
            names = [f"class_{l}" + "x" * rng.randint(0, 12) for l in used] if case % 3 == 0 else None
            row = {"y_true": y, "y_pred": p, "labels": labels, "zero_division": zd, "digits": digits, "target_names": names,
                   "accuracy": accuracy_score(y, p), "confusion_matrix": confusion_matrix(y, p, labels=labels).tolist(),
                   "none": prfs(y, p, labels=labels, average=None, zero_division=zd)}
            if labels is None:
                row["balanced_accuracy"] = balanced_accuracy_score(y, p)
            for avg in ["macro", "micro", "weighted"]:
                row[avg] = prfs(y, p, labels=labels, average=avg, zero_division=zd)[:3]
            if labels is None and set(y) | set(p) <= {0, 1} and len(set(y) | set(p)) == 2:
                row["binary"] = prfs(y, p, average="binary", pos_label=1, zero_division=zd)[:3]
            row["report"] = classification_report(y, p, labels=labels, target_names=names, digits=digits, zero_division=zd)
            row["report_dict"] = classification_report(y, p, labels=labels, target_names=names, zero_division=zd, output_dict=True)
            if len(set(y)) == 2 and case % 2 == 0:
                scores = [round(rng.random(), 2) for _ in y]
                yb = [1 if v == max(y) else 0 for v in y]
                row["auc"] = {"y": yb, "scores": scores, "value": roc_auc_score(yb, scores)}
            f.write(json.dumps(row) + "\n")
    multilabel(out.replace("sklearn.golden", "sklearn.multilabel.golden"))
    print("scikit-learn", sklearn.__version__)


def multilabel(out):
    """500 label-indicator cases: 2-8 labels, 1-60 samples, empty label sets in truth and
    predictions, labels nobody has, every average including "samples"."""
    rng = random.Random(4321)
    with gzip.open(out, "wt", encoding="utf-8") as f:
        for case in range(500):
            k, n = rng.randint(2, 8), rng.randint(1, 60)
            density_t, density_p = rng.choice([0.1, 0.3, 0.6]), rng.choice([0.0, 0.1, 0.3, 0.6])
            y = [[int(rng.random() < density_t) for _ in range(k)] for _ in range(n)]
            p = [[t if rng.random() < 0.6 else int(rng.random() < density_p) for t in row] for row in y]
            zd = rng.choice([0.0, 1.0])
            digits = rng.choice([2, 4])
            names = [f"label_{j}" + "x" * rng.randint(0, 12) for j in range(k)] if case % 3 == 0 else None
            Y, P = np.array(y), np.array(p)
            row = {"y_true": y, "y_pred": p, "zero_division": zd, "digits": digits, "target_names": names,
                   "subset_accuracy": accuracy_score(Y, P), "hamming_loss": hamming_loss(Y, P),
                   "none": prfs(Y, P, average=None, zero_division=zd)}
            for avg in ["macro", "micro", "weighted", "samples"]:
                row[avg] = prfs(Y, P, average=avg, zero_division=zd)[:3]
            row["report"] = classification_report(Y, P, target_names=names, digits=digits, zero_division=zd)
            f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
