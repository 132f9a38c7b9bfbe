#!/usr/bin/env python3
"""Check scale-out results against the input and a single-process reference run.

usage: verify_jsonl.py [--output-field prediction] [--ordered] INPUT.jsonl REFERENCE.jsonl RESULT.jsonl...
Every non-blank input record (identified by its "id") must come back exactly once across the RESULT
files, with all input fields unchanged and in order, the output field last, and the same label as in
REFERENCE (and, with --ordered, in input order). Trailing whitespace (e.g. the tab Hadoop's TextOutputFormat appends) is ignored.
Exit status 1 on any problem.
"""
import argparse
import json
import sys
from collections import Counter


def records(path):
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def check(inputs, path, field, ordered=True):
    """Problems in one complete output (all files of `path`), and {id: label}."""
    problems, labels, seen, order = [], {}, Counter(), []
    for p in path:
        for obj in records(p):
            keys = list(obj)
            if not keys or keys[-1] != field:
                problems.append(f"{p}: output field {field!r} missing or not last: {keys}")
                continue
            pred = obj.pop(field)
            rid = obj.get("id")
            seen[rid] += 1
            order.append(rid)
            if rid not in inputs:
                problems.append(f"{p}: unknown id {rid!r}")
            elif list(obj.items()) != list(inputs[rid].items()):
                problems.append(f"{p}: id {rid}: input fields changed or reordered")
            labels[rid] = pred["label"]
    problems += [f"id {i} returned {c} times" for i, c in seen.items() if c != 1]
    problems += [f"id {i} missing" for i in inputs if i not in seen]
    if ordered and not problems and order != list(inputs):
        problems.append("results are not in input order")
    return problems, labels


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--output-field", default="prediction")
    p.add_argument("--ordered", action="store_true", help="results must be in input order")
    p.add_argument("input")
    p.add_argument("reference")
    p.add_argument("results", nargs="+")
    a = p.parse_args()
    inputs = {}
    for obj in records(a.input):
        assert obj["id"] not in inputs, f"duplicate id {obj['id']} in {a.input}"
        inputs[obj["id"]] = obj
    ref_problems, ref = check(inputs, [a.reference], a.output_field)
    problems, got = check(inputs, a.results, a.output_field, a.ordered)
    problems = [f"reference: {x}" for x in ref_problems] + problems
    problems += [f"id {i}: label {got[i]} != reference {ref[i]}" for i in got if i in ref and got[i] != ref[i]]
    for x in problems[:20]:
        print("MISMATCH", x, file=sys.stderr)
    print(f"{'FAIL' if problems else 'ok'}: {len(inputs)} records, {len(got)} ids back from "
          f"{len(a.results)} file(s), {len(problems)} problem(s)")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
