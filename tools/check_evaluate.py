#!/usr/bin/env python3
"""Recomputes `verdict evaluate`'s numbers with scikit-learn from the predictions it wrote.

Usage:
  verdict evaluate --data ../shared/data/sst2/dev.tsv --predictions preds.jsonl > report.txt
  python tools/check_evaluate.py preds.jsonl report.txt

Prints scikit-learn's classification report (digits=4) and confusion matrix, then checks that
Verdict's report block and confusion matrix are the same text; exits 1 when they differ.
"""
import json, sys
from sklearn.metrics import accuracy_score, classification_report, confusion_matrix


def main():
    rows = [json.loads(line) for line in open(sys.argv[1], encoding="utf-8")]
    verdict = open(sys.argv[2], encoding="utf-8").read()
    y_true, y_pred = [r["label"] for r in rows], [r["predicted"] for r in rows]
    labels = sorted(set(y_true) | set(y_pred))
    report = classification_report(y_true, y_pred, labels=labels, digits=4, zero_division=0)
    matrix = confusion_matrix(y_true, y_pred, labels=labels)
    print(report)
    print(matrix)
    print(f"accuracy {accuracy_score(y_true, y_pred)!r} on {len(rows)} examples")
    ok = report.rstrip() in verdict
    matrix_lines = [" ".join(f"{v:7d}" for v in row) for row in matrix]
    verdict_lines = [" ".join(f"{int(v):7d}" for v in line.split()) for line in verdict.splitlines()
                     if line.strip() and all(t.isdigit() for t in line.split())]
    ok = ok and verdict_lines == matrix_lines
    print("verdict evaluate matches scikit-learn: report text and confusion matrix identical" if ok else "MISMATCH")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
