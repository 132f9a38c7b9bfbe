#!/usr/bin/env bash
# Real decoder weights as sequence classifiers, Verdict vs PyTorch transformers in the same run:
# texts/s (`verdict bench-classify` vs tools/bench_classify.py: pipeline, fp32, batch 32, 2 threads,
# best of 2) and peak RSS (/usr/bin/time) on the SST-2 dev sentences (LIMIT, default all 872).
# Each Hugging Face causal-LM folder (tools/make_real_decoder_fixtures.py --hf-out) becomes
# `XxxForSequenceClassification` with 2 labels and a seeded random `score` head (speed does not
# depend on it), saved in fp32 under .build/bench-decoders/<name>.
# Usage: tools/bench_decoders.sh PYTHON HF_FOLDER...
set -euo pipefail
cd "$(dirname "$0")/.."
python=$1; shift
shared=${VERDICT_SHARED_DIR:-../shared}
swift build -c release --product verdict >/dev/null
export VERDICT_NUM_THREADS=2
for hf in "$@"; do
  name=$(basename "$hf"); out=.build/bench-decoders/$name
  if [ ! -d "$out" ]; then
    "$python" - "$hf" "$out" <<'PY' >&2
import shutil, sys, torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer
src, out = sys.argv[1], sys.argv[2]
torch.manual_seed(0)
tok = AutoTokenizer.from_pretrained(src)
model = AutoModelForSequenceClassification.from_pretrained(src, num_labels=2, dtype=torch.float32,
                                                           pad_token_id=tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id)
model.save_pretrained(out)
tok.save_pretrained(out)
PY
  fi
  echo "== $name"
  /usr/bin/time -f "verdict peak RSS %M KB" .build/release/verdict bench-classify --model "$out" --input "$shared/data/sst2/dev.tsv" ${LIMIT:+--limit $LIMIT} --repeats 2
  /usr/bin/time -f "pytorch peak RSS %M KB" "$python" tools/bench_classify.py "$out" "$shared/data/sst2/dev.tsv" ${LIMIT:+--limit $LIMIT} --repeats 2 --threads 2 2>&1 | grep -E '^pytorch'
done
