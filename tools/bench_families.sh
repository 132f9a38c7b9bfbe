#!/usr/bin/env bash
# Texts/s of every encoder family in its base shape, Verdict vs PyTorch transformers, same run:
# `verdict bench-classify` and tools/bench_classify.py (pipeline, fp32, batch 32, 2 threads, best of 2)
# on the first LIMIT (default 256) SST-2 dev sentences, best of 2, one family after the other.
# Usage: LIMIT=256 tools/bench_families.sh PYTHON [FAMILIES...]   (PYTHON: a venv with torch + transformers)
set -euo pipefail
cd "$(dirname "$0")/.."
python=$1; shift
shared=${VERDICT_SHARED_DIR:-../shared}
dir=.build/bench-families
[ -d "$dir" ] || "$python" tools/bench_families.py "$dir" >&2
swift build -c release --product verdict >/dev/null
export VERDICT_NUM_THREADS=2
for model in "$dir"/*/; do
  [ $# -eq 0 ] || [[ " $* " == *" $(basename "$model") "* ]] || continue
  echo "== $(basename "$model")"
  .build/release/verdict bench-classify --model "$model" --input "$shared/data/sst2/dev.tsv" --limit "${LIMIT:-256}" --repeats 2
  "$python" tools/bench_classify.py "$model" "$shared/data/sst2/dev.tsv" --limit "${LIMIT:-256}" --repeats 2 --threads 2 2>/dev/null | grep '^pytorch'
done
