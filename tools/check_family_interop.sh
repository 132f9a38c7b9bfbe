#!/usr/bin/env bash
# For each tiny family checkpoint of Fixtures/families and Fixtures/decoders (saved by transformers): fine-tune it a few
# steps with `verdict train`, then load Verdict's saved model in transformers and compare logits
# on 200 SST-2 dev sentences (tools/check_interop.py, bound 1e-4).
#
# Usage: tools/check_family_interop.sh VERDICT_BINARY PYTHON [NAMES...]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
verdict="$1"; python="$2"; shift 2
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(tiny-roberta tiny-xlm-roberta tiny-camembert tiny-electra tiny-albert tiny-albert-groups tiny-mpnet tiny-modernbert tiny-modernbert-cls tiny-deberta-v2 tiny-deberta-v2-classic tiny-longformer
                                 tiny-gpt2 tiny-llama tiny-llama-linear tiny-mistral tiny-qwen2 tiny-qwen3 tiny-mbart)
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
head -n 97 "$root/../shared/data/sst2/train.tsv" > "$work/train.tsv"   # header + 96 sentences
for name in "${names[@]}"; do
  model="$root/Fixtures/families/$name"
  [ -d "$model" ] || model="$root/Fixtures/decoders/$name"
  "$verdict" train --model "$model" --train "$work/train.tsv" --labels negative,positive \
    --output "$work/$name" --epochs 1 --batch-size 16 --learning-rate 1e-3 --save-strategy no --seed 7 > "$work/$name.log" 2>&1 \
    || { cat "$work/$name.log"; exit 1; }
  printf '%-22s ' "$name"
  "$python" "$root/tools/check_interop.py" "$work/$name/final" "$verdict" 2>/dev/null
done
