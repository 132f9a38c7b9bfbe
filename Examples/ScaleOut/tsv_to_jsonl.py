#!/usr/bin/env python3
"""TSV with a header row (SST-2: `sentence<TAB>label`) -> JSON Lines for `verdict classify --jsonl`.

usage: tsv_to_jsonl.py INPUT.tsv [--column sentence] [--limit N] > input.jsonl
Each row becomes {"id": k, "text": <column>, <other columns>...}, k = 0-based row number.
"""
import argparse
import csv
import json
import sys


def read_tsv(path, column="sentence", limit=None):
    """Yield {"id": k, "text": ..., other columns} for each row, parsed by the csv module."""
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f, delimiter="\t")
        header = next(reader)
        col = header.index(column)
        for k, row in enumerate(reader):
            if limit is not None and k >= limit:
                break
            if len(row) != len(header):
                sys.exit(f"{path}: row {k + 1} has {len(row)} fields, the header has {len(header)}")
            rec = {"id": k, "text": row[col]}
            rec.update((h, v) for h, v in zip(header, row) if h != column)
            yield rec


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("input")
    p.add_argument("--column", default="sentence")
    p.add_argument("--limit", type=int)
    a = p.parse_args()
    for rec in read_tsv(a.input, a.column, a.limit):
        sys.stdout.write(json.dumps(rec, ensure_ascii=False) + "\n")
