#!/usr/bin/env bash
# CI check of the Spark recipe on a sample: Spark (local[2]) vs one single-process verdict run.
# usage: Examples/ScaleOut/check_spark.sh [VERDICT] [LIMIT]      (or env VERDICT=..., LIMIT=...)
#   VERDICT  defaults to .build/release/verdict (relative to the repo root); LIMIT to 2000 sentences;
#   INPUT    defaults to shared/data/sst2/train.tsv beside the repo (any TSV with a `sentence` column).
# Installs what is missing: pyspark into a venv under ${XDG_CACHE_HOME:-~/.cache} and, as root,
# Java 17 (apt-get install openjdk-17-jre-headless). Exits non-zero on any mismatch.
source "$(dirname "$0")/common.sh"
if [ -z "${OUT:-}" ]; then OUT=$(mktemp -d); trap 'rm -rf "$OUT"' EXIT; fi  # OUT=DIR keeps the results
if ! command -v java >/dev/null; then
  [ "$(id -u)" = 0 ] || { echo "java missing: apt-get install openjdk-17-jre-headless" >&2; exit 2; }
  apt-get install -y -q openjdk-17-jre-headless >/dev/null ||
    { apt-get update -q >/dev/null && apt-get install -y -q openjdk-17-jre-headless >/dev/null; }
fi
PY=$(python_with pyspark 'pyspark>=4,<5')
echo "spark check: $LIMIT sentences of $INPUT with $VERDICT"
"$PY" "$here/spark_classify.py" --verdict "$VERDICT" --input "$INPUT" --limit "$LIMIT" \
  --output "$OUT" --compare
echo "spark check: passed"
