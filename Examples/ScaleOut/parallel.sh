#!/usr/bin/env bash
# Classify a big JSON Lines file on all cores with GNU parallel: the file is cut into about one block
# per job slot (so each verdict process loads the model once) and the outputs come back in input order.
# usage: Examples/ScaleOut/parallel.sh INPUT.jsonl [VERDICT CLASSIFY ARGS...] > OUTPUT.jsonl
#   e.g. VERDICT=/usr/local/bin/verdict JOBS=4 parallel.sh big.jsonl --dtype int8 > big.out.jsonl
#   env: VERDICT (default: verdict on PATH), JOBS (default: nproc), BLOCK (bytes per chunk),
#        VERDICT_NUM_THREADS (threads per verdict; default: nproc / JOBS).
# Needs GNU parallel (Debian: apt-get install parallel). Error line numbers are within a chunk.
# For a file, `parallel --pipe-part -a INPUT --block -1` is faster (GNU parallel does not read the data).
set -euo pipefail
in=$1; shift
JOBS=${JOBS:-$(nproc)}
export VERDICT_NUM_THREADS=${VERDICT_NUM_THREADS:-$(( $(nproc) / JOBS > 0 ? $(nproc) / JOBS : 1 ))}
BLOCK=${BLOCK:-$(( $(stat -c %s "$in") / JOBS * 101 / 100 + 1 ))}  # +1%: a chunk ends at the last full line
parallel --will-cite --pipe --keep-order --halt now,fail=1 -q -j "$JOBS" --block "$BLOCK" \
  "${VERDICT:-verdict}" classify --jsonl "$@" < "$in"
