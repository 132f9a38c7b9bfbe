#!/usr/bin/env python3
"""Classify a TSV with Spark, piping each partition through `verdict classify --jsonl`.

usage: spark_classify.py --verdict PATH --input train.tsv --output DIR [--limit N] [--partitions 4]
           [--model DIR] [--master local[2]] [--column sentence] [--compare] [-- EXTRA VERDICT ARGS]
e.g.   spark_classify.py --verdict .build/release/verdict --input /data/sst2/train.tsv \\
           --output /tmp/sst2-out --compare -- --dtype int8 --batch-size 32

Records are {"id": k, "text": sentence} (k = 0-based TSV row). Writes DIR/input.jsonl, DIR/spark/part-*
(verdict's output lines) and DIR/summary.json, and checks that every id comes back exactly once.
--compare also runs the same verdict command once over DIR/input.jsonl (DIR/single.jsonl) and checks
that the labels are equal id by id. Exit status 1 on any lost, duplicated or differing record.
Needs `pip install pyspark` (4.x) and Java 17 (Debian: openjdk-17-jre-headless).
"""
import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tsv_to_jsonl import read_tsv  # noqa: E402

# rdd.pipe() starts the command with exactly this environment (nothing is inherited).
PASS_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "XDG_CACHE_HOME", "HF_HOME", "HF_HUB_OFFLINE",
            "VERDICT_DEFAULT_MODEL", "VERDICT_NUM_THREADS")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--verdict", required=True, help="the verdict binary (same path on every executor)")
    p.add_argument("--input", required=True, help="TSV with a header row")
    p.add_argument("--output", required=True, help="output directory (created; DIR/spark is replaced)")
    p.add_argument("--column", default="sentence", help="TSV column with the text")
    p.add_argument("--limit", type=int, help="only the first N rows")
    p.add_argument("--partitions", type=int, default=4, help="one verdict process per partition")
    p.add_argument("--model", help="model directory, passed as --model")
    p.add_argument("--master", default="local[2]")
    p.add_argument("--output-field", default="prediction", help="passed as --output-field")
    p.add_argument("--compare", action="store_true", help="also run verdict once over everything and compare")
    args, extra = p.parse_known_args()
    extra = extra[1:] if extra[:1] == ["--"] else extra

    cmd = [os.path.abspath(args.verdict), "classify", "--jsonl", "--output-field", args.output_field]
    cmd += (["--model", os.path.abspath(args.model)] if args.model else []) + extra
    os.makedirs(args.output, exist_ok=True)
    lines = [json.dumps({"id": r["id"], "text": r["text"]}, ensure_ascii=False)
             for r in read_tsv(args.input, args.column, args.limit)]
    n = len(lines)
    input_jsonl = os.path.join(args.output, "input.jsonl")
    with open(input_jsonl, "w", encoding="utf-8") as f:
        f.writelines(x + "\n" for x in lines)
    print(f"{n} records from {args.input}; command: {shlex.join(cmd)}", flush=True)

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # the workers use this venv too
    from pyspark.sql import SparkSession
    t0 = time.time()
    spark = (SparkSession.builder.master(args.master).appName("verdict-classify")
             .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
             .getOrCreate())
    sc = spark.sparkContext
    sc.setLogLevel("WARN")
    startup = time.time() - t0

    spark_dir = os.path.join(args.output, "spark")
    shutil.rmtree(spark_dir, ignore_errors=True)
    env = {k: v for k, v in os.environ.items() if k in PASS_ENV}
    # Each verdict uses every core by default: share them among the tasks running at once.
    env.setdefault("VERDICT_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // sc.defaultParallelism)))
    t0 = time.time()
    (sc.parallelize(lines, args.partitions)
       .pipe(shlex.join(cmd), env=env, checkCode=True)  # checkCode: a failing verdict fails the job
       .saveAsTextFile(spark_dir))
    spark_s = time.time() - t0

    # Read back what was written: every id exactly once (count and set).
    field = args.output_field
    pairs = sc.textFile(spark_dir).map(json.loads).map(lambda o: (o["id"], o[field]["label"])).cache()
    count, distinct = pairs.count(), pairs.keys().distinct().count()
    unknown = pairs.keys().filter(lambda i: not (isinstance(i, int) and 0 <= i < n)).count()
    problems = [] if (count, distinct, unknown) == (n, n, 0) else [
        f"exactly-once violated: {count} results, {distinct} distinct ids, {unknown} unknown ids, {n} records"]
    summary = {"records": n, "partitions": args.partitions, "master": args.master,
               "threads_per_verdict": int(env["VERDICT_NUM_THREADS"]),
               "spark_startup_s": round(startup, 2), "spark_classify_s": round(spark_s, 2),
               "spark_records_per_s": round(n / spark_s, 1)}

    if args.compare:
        single = os.path.join(args.output, "single.jsonl")
        t0 = time.time()
        with open(input_jsonl, "rb") as fin, open(single, "wb") as fout:
            subprocess.run(cmd, stdin=fin, stdout=fout, check=True)
        summary["single_classify_s"] = round(time.time() - t0, 2)
        with open(single, encoding="utf-8") as f:
            ref = [json.loads(x) for x in f]
        ref_ids = [o["id"] for o in ref]
        if ref_ids != list(range(n)):
            problems.append("single-process run did not return ids 0..n-1 in input order")
        ref_labels = {o["id"]: o[field]["label"] for o in ref}
        diff = [(i, lab, ref_labels.get(i)) for i, lab in pairs.collect() if ref_labels.get(i) != lab]
        problems += [f"id {i}: spark {a} != single {b}" for i, a, b in diff[:20]]
        summary["label_mismatches"] = len(diff)

    spark.stop()
    summary["ok"] = not problems
    with open(os.path.join(args.output, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    for x in problems:
        print("MISMATCH", x, file=sys.stderr)
    print(json.dumps(summary))
    sys.exit(0 if summary["ok"] else 1)


if __name__ == "__main__":
    main()
