#!/usr/bin/env bash
# Texts/s of every encoder family in its base shape, Verdict vs PyTorch transformers, same run:
# `verdict bench-classify` and tools/bench_classify.py (pipeline, fp32, batch 32, 2 threads, best of 3)
# on SST-2 dev, one family after the other.
# Usage: tools/bench_families.sh PYTHON [FAMILIES...]   (PYTHON: a venv with torch + transformers)
set -euo pipefail
cd "$(dirname "$0")/.."
python=$1; shift
shared=${VERDICT_SHARED_DIR:-../shared}
dir=.build/bench-families
"$python" tools/bench_families.py "$dir" "$@" >&2
swift build -c release --product verdict >/dev/null
export VERDICT_NUM_THREADS=2
for model in "$dir"/*/; do
  [ $# -eq 0 ] || [[ " $* " == *" $(basename "$model") "* ]] || continue
  echo "== $(basename "$model")"
  .build/release/verdict bench-classify --model "$model" --input "$shared/data/sst2/dev.tsv"
  "$python" tools/bench_classify.py "$model" "$shared/data/sst2/dev.tsv" --threads 2 2>/dev/null | grep '^pytorch'
done
