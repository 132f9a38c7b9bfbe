#!/usr/bin/env bash
# CI check of the Spark recipe on a sample: Spark (local[2]) vs one single-process verdict run.
# usage: Examples/ScaleOut/check_spark.sh [VERDICT] [LIMIT]      (or env VERDICT=..., LIMIT=...)
#   VERDICT  defaults to .build/release/verdict (relative to the repo root); LIMIT to 2000 sentences;
#   INPUT    defaults to shared/data/sst2/train.tsv beside the repo (any TSV with a `sentence` column).
# Installs what is missing: pyspark into a venv under ${XDG_CACHE_HOME:-~/.cache} and, as root,
# Java 17 (apt-get install openjdk-17-jre-headless). Exits non-zero on any mismatch.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
VERDICT=$(realpath "${1:-${VERDICT:-$root/.build/release/verdict}}")
LIMIT=${2:-${LIMIT:-2000}}
INPUT=${INPUT:-$root/../shared/data/sst2/train.tsv}
if [ -z "${OUT:-}" ]; then OUT=$(mktemp -d); trap 'rm -rf "$OUT"' EXIT; fi  # OUT=DIR keeps the results
VENV=${VERDICT_SCALEOUT_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/verdict-scaleout-venv}

[ -x "$VERDICT" ] || { echo "no verdict binary at $VERDICT" >&2; exit 2; }
[ -f "$INPUT" ] || { echo "SKIP: no input at $INPUT (the SST-2 training file of ../shared; set INPUT)"; exit 0; }
if ! command -v java >/dev/null; then
  [ "$(id -u)" = 0 ] || { echo "java missing: apt-get install openjdk-17-jre-headless" >&2; exit 2; }
  apt-get install -y -q openjdk-17-jre-headless >/dev/null ||
    { apt-get update -q >/dev/null && apt-get install -y -q openjdk-17-jre-headless >/dev/null; }
fi
PY=python3
if ! python3 -c 'import pyspark' 2>/dev/null; then
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  "$VENV/bin/python" -c 'import pyspark' 2>/dev/null || "$VENV/bin/pip" install -q 'pyspark>=4,<5'
  PY=$VENV/bin/python
fi
echo "spark check: $LIMIT sentences of $INPUT with $VERDICT"
"$PY" "$here/spark_classify.py" --verdict "$VERDICT" --input "$INPUT" --limit "$LIMIT" \
  --output "$OUT" --compare
echo "spark check: passed"
