#!/usr/bin/env bash
# Classification throughput and latency, Verdict vs PyTorch transformers, same machine, same run.
# Usage: tools/bench_inference.sh [MODEL_DIR] [PYTHON]   (PYTHON: a venv with torch + transformers)
# Defaults: the bundled default model, python3. Both sides use 2 threads and batches of 32.
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-Sources/VerdictDefaultModel/default-sentiment}
python=${2:-python3}
shared=${VERDICT_SHARED_DIR:-../shared}
swift build -c release --product verdict >/dev/null
export VERDICT_NUM_THREADS=2
run() { # label file limit
  echo "== $1"
  .build/release/verdict bench-classify --model "$model" --input "$2" ${3:+--limit $3}
  "$python" tools/bench_classify.py "$model" "$2" ${3:+--limit $3} --threads 2 2>/dev/null | grep '^pytorch'
}
run "SST-2 dev (872 sentences)" "$shared/data/sst2/dev.tsv"
run "SST-2 train, first 1,000 sentences" "$shared/data/sst2/train.tsv" 1000
run "Amazon books dev (300 reviews, truncated to 512 tokens)" "$shared/data/amazon-reviews/books/dev.tsv"
