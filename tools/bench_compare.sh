#!/usr/bin/env bash
# Verdict, PyTorch and ONNX Runtime on the same inputs in the same run, printed as markdown (issue 13).
#
# Usage: tools/bench_compare.sh [PYTHON]
#   PYTHON  a Python with torch, transformers, tokenizers, onnxruntime, onnx and onnxscript. Without it the
#           script makes .build/bench-venv (python3 -m venv) and pip-installs them there, once.
# Environment:
#   LIMIT=120        Amazon books dev reviews used (the first LIMIT; they are truncated to 512 tokens)
#   SST2_LIMIT=      SST-2 dev sentences used (default: all 872; for smoke tests)
#   REPEATS=3        best of REPEATS for every throughput and end-to-end figure
#   THREADS=2        threads of every engine
#   INT8_PER_CHANNEL=1  ORT int8 quantized per output channel with reduce_range (as Verdict's int8 is) instead
#                    of quantize_dynamic's default (per tensor)
#   SKIP_BUILD=1     use the existing .build/release/verdict instead of `swift build -c release`
#   TRAIN_STEPS=8    steps of each fine-tuning run (DistilBERT-base shape, batch 16 x 128); TRAIN_STEPS=0 skips training
#   VERDICT_SHARED_DIR=../shared   where data/sst2 and data/amazon-reviews are
#
# Workloads: MiniLM-L6 (Sources/VerdictDefaultModel/default-sentiment, the bundled model) and DistilBERT-base shape (random weights,
# tools/make_bench_models.py, in .build/bench-models), each on SST-2 dev and on Amazon books dev. Every engine
# reads the same TSV (the first rows are copied to .build/bench-compare/inputs) in batches of 32:
#   Verdict fp32, int8   `verdict bench-classify` (in process: texts/s, one-sentence latency) and `verdict classify
#                        --json` timed from process start (model load included), whose scores are then compared
#                        with PyTorch's; int8 is `--dtype int8` on both (n/a when the binary refuses it).
#   PyTorch              tools/bench_classify.py (transformers text-classification pipeline, fp32).
#   ORT fp32, opt, int8  tools/bench_ort.py: exported graph, + transformer optimiser, + dynamic int8 quantization;
#                        one process per variant (its own peak RSS); exports cached in .build/bench-models/ort-cache.
# Training: `verdict bench-train` and tools/bench_train.py (forward, backward, clipping, AdamW at a fixed
# shape) run in turn REPEATS times; each run's ms per step, the ratio run by run, and peak RSS.
# Markdown goes to standard output; progress, build output and errors to standard error.
set -euo pipefail
cd "$(dirname "$0")/.."

SHARED=${VERDICT_SHARED_DIR:-../shared}
LIMIT=${LIMIT:-120}
SST2_LIMIT=${SST2_LIMIT:-}
REPEATS=${REPEATS:-3}
THREADS=${THREADS:-2}
MODELS_DIR=.build/bench-models
WORK_DIR=.build/bench-compare
VERDICT=.build/release/verdict
ENGINES=(verdict-fp32 verdict-int8 pytorch ort-fp32 ort-opt ort-int8)
ORT_FLAGS=(--threads "$THREADS")   # every tools/bench_ort.py call
[ "${INT8_PER_CHANNEL:-}" = 1 ] && ORT_FLAGS+=(--int8-per-channel)
export VERDICT_NUM_THREADS=$THREADS

declare -A R=()          # results: R[workload:engine:metric] (tps, lat, acc, diff, rss, e2e, e2e_tps)
declare -A NOTES=()      # bench_ort.py notes per model
WORKLOADS=()             # workload ids, in order
declare -A W_NAME=() W_MODEL=() W_INPUT=() W_COUNT=() W_CACHE=()

TIME_BIN=$([ -x /usr/bin/time ] && echo /usr/bin/time || true)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

log() { echo "[bench_compare] $*" >&2; }

# ------------------------------------------------------------------------------------------- set-up

# The Python of the reference engines: $1, or a venv of our own with everything installed.
setup_python() {
  local deps=(torch transformers tokenizers onnxruntime onnx onnxscript)
  if [ -n "${1:-}" ]; then
    PYTHON=$1
  else
    local venv=.build/bench-venv
    PYTHON=$venv/bin/python
    if ! "$PYTHON" -c "import torch, transformers, tokenizers, onnxruntime, onnx, onnxscript" 2>/dev/null; then
      log "making $venv (pip install ${deps[*]})"
      python3 -m venv "$venv"
      "$venv/bin/pip" install --quiet --upgrade pip >&2
      "$venv/bin/pip" install --quiet "${deps[@]}" >&2
    fi
  fi
  "$PYTHON" -c "import torch, transformers, tokenizers, onnxruntime, onnx, onnxscript" \
    || { echo "bench_compare.sh: $PYTHON lacks one of ${deps[*]}" >&2; exit 1; }
}

build_verdict() {
  if [ "${SKIP_BUILD:-}" = 1 ]; then
    log "SKIP_BUILD=1: using the existing $VERDICT"
  else
    log "swift build -c release --product verdict"
    swift build -c release --product verdict >&2
  fi
  [ -x "$VERDICT" ] || { echo "bench_compare.sh: no $VERDICT" >&2; exit 1; }
}

make_models() {
  if [ ! -f "$MODELS_DIR/distilbert-base/model.safetensors" ]; then
    log "making $MODELS_DIR/distilbert-base"
    "$PYTHON" tools/make_bench_models.py "$MODELS_DIR" >&2
  fi
}

# Copies the header and the first N rows (all when N is empty) of a TSV, quoting kept valid; prints the row count.
make_input() { # SRC DEST N
  mkdir -p "$(dirname "$2")"
  "$PYTHON" - "$1" "$2" "${3:-0}" <<'EOF'
import csv, io, sys
csv.field_size_limit(sys.maxsize)
src, dest, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open(src, newline="", encoding="utf-8") as f:
    reader = csv.reader(f, delimiter="\t")
    header, rows = next(reader), list(reader)
rows = rows[:n] if n else rows
out = io.StringIO(newline="")
writer = csv.writer(out, delimiter="\t", lineterminator="\n")
writer.writerow(header)
writer.writerows(rows)
try:
    with open(dest, newline="", encoding="utf-8") as f:
        same = f.read() == out.getvalue()
except FileNotFoundError:
    same = False
if not same:  # an unchanged file keeps its date, and bench_ort.py its cached reference scores
    with open(dest, "w", newline="", encoding="utf-8") as f:
        f.write(out.getvalue())
print(len(rows))
EOF
}

add_workload() { # ID NAME MODEL_DIR CACHE_NAME SRC_TSV N
  local id=$1 input=$WORK_DIR/inputs/$1.tsv
  [ -f "$5" ] || { echo "bench_compare.sh: missing $5 (set VERDICT_SHARED_DIR)" >&2; exit 1; }
  WORKLOADS+=("$id")
  W_NAME[$id]=$2 W_MODEL[$id]=$3 W_CACHE[$id]=$MODELS_DIR/ort-cache/$4 W_INPUT[$id]=$input
  W_COUNT[$id]=$(make_input "$5" "$input" "$6")
}

# ------------------------------------------------------------------------------------------- helpers

# Runs a command with its peak RSS (KB) written to $TMP/rss ("" without /usr/bin/time).
run_rss() {
  : >"$TMP/rss"
  if [ -n "$TIME_BIN" ]; then "$TIME_BIN" -f %M -o "$TMP/rss" "$@"; else "$@"; fi
}
rss_mb() { [ -s "$TMP/rss" ] && awk 'NR==1 && /^[0-9]+$/ { printf "%.0f", $1 / 1024 }' "$TMP/rss" || true; }

# Values out of the fixed-format lines of bench-classify, bench_classify.py and bench_ort.py.
tps_of() { sed -n 's/.* \([0-9.][0-9.]*\) texts\/s.*/\1/p' <<<"$1" | head -1; }
lat_of() { sed -n 's/.*one sentence \([0-9.][0-9.]*\) ms.*/\1/p' <<<"$1" | head -1; }
acc_of() { sed -n 's/.*accuracy \([0-9][0-9.]*\).*/\1/p' <<<"$1" | head -1; }
ms_step_of() { sed -n 's/.*(\([0-9.][0-9.]*\) ms\/step).*/\1/p' "$1" | head -1; }   # bench-train, bench_train.py (a file)
diff_of() { sed -n 's/.*max score diff \([^;]*\);.*/\1/p' <<<"$1" | head -1; }

failed() { # ENGINE WORKLOAD WHAT
  log "$1 on $2: $3 failed: $(tail -n 3 "$TMP/err" | tr '\n' ' ')"
}

# ------------------------------------------------------------------------------------------- engines

# Verdict at one precision: in-process figures, end-to-end time and peak RSS, scores against PyTorch.
run_verdict() { # WORKLOAD ENGINE [EXTRA ARGS...]
  local w=$1 e=$2; shift 2
  local model=${W_MODEL[$w]} input=${W_INPUT[$w]} out line i t0 t1 best=0 rss=0 r
  log "$e: $VERDICT bench-classify (${W_NAME[$w]})"
  local peak_flag=()   # the FMA peak is measured once per workload, by its first Verdict run
  [ -n "${R[$w:peak]:-}" ] && peak_flag=(--no-peak)
  if ! out=$("$VERDICT" bench-classify --model "$model" --input "$input" --repeats "$REPEATS" "${peak_flag[@]}" "$@" 2>"$TMP/err"); then
    failed "$e" "$w" "bench-classify"; return 0
  fi
  line=$(grep '^verdict:' <<<"$out" || true)
  R[$w:$e:tps]=$(tps_of "$line") R[$w:$e:lat]=$(lat_of "$line")
  line=$(grep '^work:' <<<"$out" || true)   # the workload's FLOPs and the FMA peak, the same for every engine
  [ -n "$line" ] && R[$w:gflop]=$(sed -n 's/^work: \([0-9.]*\) GFLOP per pass.*/\1/p' <<<"$line") \
    R[$w:peak]=$(sed -n 's/.*fp32 FMA peak \([0-9.]*\) GFLOP.*/\1/p' <<<"$line")
  log "$e: $VERDICT classify --json, best of $REPEATS from process start"
  for ((i = 0; i < REPEATS; i++)); do
    t0=$(date +%s%N)
    if ! run_rss "$VERDICT" classify --model "$model" --input "$input" --column sentence --json "$@" \
        >"$TMP/$e.jsonl" 2>"$TMP/err"; then
      failed "$e" "$w" "classify"; return 0
    fi
    t1=$(date +%s%N)
    ((best == 0 || t1 - t0 < best)) && best=$((t1 - t0))
    r=$(rss_mb); [ -n "$r" ] && ((r > rss)) && rss=$r
  done
  R[$w:$e:e2e]=$(awk -v ns="$best" 'BEGIN { printf "%.2f", ns / 1e9 }')
  R[$w:$e:e2e_tps]=$(awk -v ns="$best" -v n="${W_COUNT[$w]}" 'BEGIN { printf "%.1f", n / (ns / 1e9) }')
  ((rss > 0)) && R[$w:$e:rss]=$rss
  if line=$("$PYTHON" tools/bench_ort.py "$model" "$input" --cache "${W_CACHE[$w]}" "${ORT_FLAGS[@]}" \
      --score-jsonl "$TMP/$e.jsonl" --name "$e" 2>"$TMP/err" | grep "^$e:"); then
    R[$w:$e:acc]=$(acc_of "$line") R[$w:$e:diff]=$(diff_of "$line")
  else
    failed "$e" "$w" "scoring"
  fi
}

run_pytorch() { # WORKLOAD
  local w=$1 line
  log "pytorch: tools/bench_classify.py (${W_NAME[$w]})"
  if ! run_rss "$PYTHON" tools/bench_classify.py "${W_MODEL[$w]}" "${W_INPUT[$w]}" --repeats "$REPEATS" \
      --threads "$THREADS" >"$TMP/out" 2>"$TMP/err"; then
    failed pytorch "$w" "bench_classify.py"; return 0
  fi
  line=$(grep '^pytorch:' "$TMP/out" || true)
  R[$w:pytorch:tps]=$(tps_of "$line") R[$w:pytorch:lat]=$(lat_of "$line") R[$w:pytorch:acc]=$(acc_of "$line")
  R[$w:pytorch:rss]=$(rss_mb)
}

# Export / optimise / quantize (cached) and the PyTorch reference scores of this input, untimed.
prepare_ort() { # WORKLOAD
  local w=$1 model=${W_MODEL[$w]}
  log "ort: preparing graphs and reference scores (${W_NAME[$w]})"
  if ! "$PYTHON" tools/bench_ort.py "$model" "${W_INPUT[$w]}" --cache "${W_CACHE[$w]}" "${ORT_FLAGS[@]}" \
      --prepare-only >"$TMP/out" 2>"$TMP/err"; then
    failed ort "$w" "bench_ort.py --prepare-only"; return 1
  fi
  NOTES[$model]=$(grep '^note:' "$TMP/out" | sed 's/^note: //' || true)
}

run_ort() { # WORKLOAD VARIANT
  local w=$1 v=$2 line
  log "$v: tools/bench_ort.py (${W_NAME[$w]})"
  if ! run_rss "$PYTHON" tools/bench_ort.py "${W_MODEL[$w]}" "${W_INPUT[$w]}" --cache "${W_CACHE[$w]}" \
      "${ORT_FLAGS[@]}" --repeats "$REPEATS" --variants "$v" >"$TMP/out" 2>"$TMP/err"; then
    failed "$v" "$w" "bench_ort.py"; return 0
  fi
  line=$(grep "^$v:" "$TMP/out" || true)
  R[$w:$v:tps]=$(tps_of "$line") R[$w:$v:lat]=$(lat_of "$line") R[$w:$v:acc]=$(acc_of "$line")
  R[$w:$v:diff]=$(diff_of "$line") R[$w:$v:rss]=$(rss_mb)
}

run_workload() { # WORKLOAD
  local w=$1
  log "== ${W_NAME[$w]}: ${W_COUNT[$w]} texts"
  prepare_ort "$w" || true
  run_verdict "$w" verdict-fp32
  run_verdict "$w" verdict-int8 --dtype int8
  run_pytorch "$w"
  for v in ort-fp32 ort-opt ort-int8; do run_ort "$w" "$v"; done
}

# Fine-tuning at a fixed shape, Verdict and PyTorch in turn, REPEATS times.
TRAIN_STEPS=${TRAIN_STEPS:-8}
TRAIN_RUNS=()   # "verdict_ms pytorch_ms verdict_rss pytorch_rss" per run
run_training() {
  ((TRAIN_STEPS > 0)) || return 0
  local model=$MODELS_DIR/distilbert-base i v p vr pr
  for ((i = 0; i < REPEATS; i++)); do
    log "training run $((i + 1)) of $REPEATS: verdict bench-train, then tools/bench_train.py ($TRAIN_STEPS steps)"
    run_rss "$VERDICT" bench-train --model "$model" --steps "$TRAIN_STEPS" >"$TMP/out" 2>"$TMP/err" || { failed verdict training bench-train; return 0; }
    v=$(ms_step_of "$TMP/out") vr=$(rss_mb)
    run_rss "$PYTHON" tools/bench_train.py "$model" --steps "$TRAIN_STEPS" --threads "$THREADS" >"$TMP/out" 2>"$TMP/err" \
      || { failed pytorch training bench_train.py; return 0; }
    p=$(ms_step_of "$TMP/out") pr=$(rss_mb)
    TRAIN_RUNS+=("${v:-n/a} ${p:-n/a} ${vr:-n/a} ${pr:-n/a}")
  done
}

print_training() {
  ((${#TRAIN_RUNS[@]} > 0)) || return 0
  local run v p vr pr
  echo "## Fine-tuning, DistilBERT-base shape, batch 16 × 128 tokens, $TRAIN_STEPS steps (forward, backward, clipping, AdamW), runs in turn"
  echo
  echo "\`$VERDICT bench-train --model $MODELS_DIR/distilbert-base --steps $TRAIN_STEPS\` vs \`$PYTHON tools/bench_train.py $MODELS_DIR/distilbert-base --steps $TRAIN_STEPS --threads $THREADS\`"
  echo
  echo "| run | Verdict ms/step | PyTorch ms/step | Verdict / PyTorch speed | Verdict peak RSS, MB | PyTorch peak RSS, MB |"
  echo "| --- | --- | --- | --- | --- | --- |"
  for run in "${!TRAIN_RUNS[@]}"; do
    read -r v p vr pr <<<"${TRAIN_RUNS[$run]}"
    row "$((run + 1))" "$v" "$p" "$(awk -v a="$v" -v b="$p" 'BEGIN { if (a > 0 && b > 0) printf "%.2f×", b / a; else print "n/a" }')" "$vr" "$pr"
  done
  echo
}

# ------------------------------------------------------------------------------------------- report

val() { local v=${R[$1]:-}; echo "${v:-n/a}"; }
ratio() { # KEY_A KEY_B: A / B as "1.23×"
  local a=${R[$1]:-} b=${R[$2]:-}
  if [ -n "$a" ] && [ -n "$b" ]; then awk -v a="$a" -v b="$b" 'BEGIN { if (b > 0) printf "%.2f×", a / b; else print "n/a" }'
  else echo n/a; fi
}
row() { local out="|" c; for c in "$@"; do out+=" $c |"; done; echo "$out"; }
engine_cells() { # WORKLOAD METRIC: the metric of every engine, one argument each
  local e
  for e in "${ENGINES[@]}"; do printf '%s\n' "$(val "$1:$e:$2")"; done
}
engine_row() { # WORKLOAD METRIC [FIRST CELL]: a table row, the metric of every engine
  local cells
  mapfile -t cells < <(engine_cells "$1" "$2")
  row "${3:-${W_NAME[$1]}}" "${cells[@]}"
}
ENGINE_HEAD="Verdict fp32 | Verdict int8 | PyTorch | ORT fp32 | ORT opt | ORT int8"

print_header() {
  local flags
  flags=$(grep -o -w -E 'avx512[a-z0-9_]*|avx_vnni[a-z0-9_]*|amx_[a-z0-9_]*' /proc/cpuinfo 2>/dev/null | sort -u | tr '\n' ' ' || true)
  echo "# Verdict vs PyTorch vs ONNX Runtime"
  echo
  echo "- date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  echo "- CPU: $(grep -m1 "model name" /proc/cpuinfo | sed 's/^model name[[:space:]]*: //' || echo unknown), $(nproc) cores visible"
  echo "- AVX-512 / VNNI / AMX flags: ${flags:-none}$(grep -q -w avx2 /proc/cpuinfo 2>/dev/null && echo ' (AVX2: yes)' || echo ' (AVX2: no)')$(grep -q -w fma /proc/cpuinfo 2>/dev/null && echo ', FMA: yes' || echo ', FMA: no')"
  echo "- threads: $THREADS (VERDICT_NUM_THREADS=$THREADS; torch.set_num_threads($THREADS); ORT intra_op $THREADS, inter_op 1, sequential); batches of 32; best of $REPEATS"
  echo "- verdict: $(git rev-parse --short HEAD 2>/dev/null || echo '?')$([ -z "$(git status --porcelain -- Sources Package.swift 2>/dev/null)" ] || echo ' + uncommitted changes in Sources'), release build"
  echo "- python: $("$PYTHON" -c 'import sys, torch, transformers, onnxruntime; print(f"{sys.version.split()[0]}, torch {torch.__version__}, transformers {transformers.__version__}, onnxruntime {onnxruntime.__version__}")' 2>/dev/null)"
  echo
  echo "Workloads (MODEL, INPUT):"
  echo
  for w in "${WORKLOADS[@]}"; do echo "- ${W_NAME[$w]}: \`${W_MODEL[$w]}\`, \`${W_INPUT[$w]}\` (${W_COUNT[$w]} texts)"; done
  echo
  echo "Commands, for each workload (CACHE = $MODELS_DIR/ort-cache/<model>):"
  echo
  echo '```sh'
  echo "export VERDICT_NUM_THREADS=$THREADS"
  echo "$VERDICT bench-classify --model MODEL --input INPUT --repeats $REPEATS [--dtype int8]"
  echo "$VERDICT classify --model MODEL --input INPUT --column sentence --json [--dtype int8] > OUT.jsonl   # timed from process start, best of $REPEATS; under /usr/bin/time -f %M"
  echo "$PYTHON tools/bench_ort.py MODEL INPUT --cache CACHE ${ORT_FLAGS[*]} --score-jsonl OUT.jsonl   # Verdict's scores vs PyTorch fp32"
  echo "$PYTHON tools/bench_classify.py MODEL INPUT --repeats $REPEATS --threads $THREADS"
  echo "$PYTHON tools/bench_ort.py MODEL INPUT --cache CACHE ${ORT_FLAGS[*]} --prepare-only   # export, optimise, quantize, reference (untimed)"
  echo "$PYTHON tools/bench_ort.py MODEL INPUT --cache CACHE ${ORT_FLAGS[*]} --repeats $REPEATS --variants ort-fp32|ort-opt|ort-int8"
  echo '```'
}

print_tables() {
  local w m
  echo
  echo "## Throughput, texts/s (in process, best of $REPEATS)"
  echo
  echo "| workload | $ENGINE_HEAD | Verdict fp32 / PyTorch | Verdict int8 / PyTorch | Verdict int8 / ORT int8 | Verdict fp32 / ORT fp32 |"
  echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
  local cells
  for w in "${WORKLOADS[@]}"; do
    mapfile -t cells < <(engine_cells "$w" tps)
    row "${W_NAME[$w]}" "${cells[@]}" \
      "$(ratio "$w:verdict-fp32:tps" "$w:pytorch:tps")" "$(ratio "$w:verdict-int8:tps" "$w:pytorch:tps")" \
      "$(ratio "$w:verdict-int8:tps" "$w:ort-int8:tps")" "$(ratio "$w:verdict-fp32:tps" "$w:ort-fp32:tps")"
  done
  echo
  echo "## Share of the fp32 FMA peak: a full forward pass's FLOPs × texts/s ÷ the peak loop's GFLOP/s"
  echo
  echo "FLOPs counted as BERT layers (\`verdict bench-classify\`'s work line; int8 counted as the fp32 work it replaces, so it can pass 100 %)."
  echo
  echo "| workload | GFLOP per pass | peak, GFLOP/s | $ENGINE_HEAD |"
  echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
  local e shares
  for w in "${WORKLOADS[@]}"; do
    shares=()
    for e in "${ENGINES[@]}"; do
      shares+=("$(awk -v g="${R[$w:gflop]:-}" -v p="${R[$w:peak]:-}" -v t="${R[$w:$e:tps]:-}" -v n="${W_COUNT[$w]}" \
        'BEGIN { if (g > 0 && p > 0 && t > 0) printf "%.0f %%", 100 * g * t / n / p; else print "n/a" }')")
    done
    row "${W_NAME[$w]}" "$(val "$w:gflop")" "$(val "$w:peak")" "${shares[@]}"
  done
  echo
  echo "## Verdict end to end: \`verdict classify --json\`, process start and model load included (best of $REPEATS)"
  echo
  echo "| workload | Verdict fp32, s | Verdict fp32, texts/s | Verdict int8, s | Verdict int8, texts/s |"
  echo "| --- | --- | --- | --- | --- |"
  for w in "${WORKLOADS[@]}"; do
    row "${W_NAME[$w]}" "$(val "$w:verdict-fp32:e2e")" "$(val "$w:verdict-fp32:e2e_tps")" "$(val "$w:verdict-int8:e2e")" "$(val "$w:verdict-int8:e2e_tps")"
  done
  echo
  echo "## One sentence (\"I really love this book\"), ms, in process (best of 20 for Verdict and PyTorch, 30 for ORT)"
  echo
  echo "| model | $ENGINE_HEAD |"
  echo "| --- | --- | --- | --- | --- | --- | --- |"
  for w in "${WORKLOADS[@]}"; do  # the same sentence whatever the file: once per model (its SST-2 run)
    if [[ $w == *-sst2 ]]; then engine_row "$w" lat "${W_NAME[$w]%%,*}"; fi
  done
  echo
  echo "## Accuracy (top-1 vs the label column; DistilBERT-base has random weights: chance level, shown only as agreement)"
  echo
  echo "| workload | $ENGINE_HEAD |"
  echo "| --- | --- | --- | --- | --- | --- | --- |"
  for w in "${WORKLOADS[@]}"; do engine_row "$w" acc; done
  echo
  echo "## Max |score difference| vs PyTorch fp32 (every text's scores; reference: bench_ort.py's AutoModelForSequenceClassification on the same batches)"
  echo
  echo "| workload | $ENGINE_HEAD |"
  echo "| --- | --- | --- | --- | --- | --- | --- |"
  for w in "${WORKLOADS[@]}"; do R[$w:pytorch:diff]="(reference)"; engine_row "$w" diff; done
  echo
  if [ -n "$TIME_BIN" ]; then
    echo "## Peak RSS, MB (/usr/bin/time; Verdict: \`classify\` process; Python: the benchmark process)"
    echo
    echo "| workload | $ENGINE_HEAD |"
    echo "| --- | --- | --- | --- | --- | --- | --- |"
    for w in "${WORKLOADS[@]}"; do engine_row "$w" rss; done
    echo
  fi
  print_training
  echo "## ONNX graphs"
  echo
  for m in "${!NOTES[@]}"; do
    echo "- \`$m\`:"
    sed 's/^/  - /' <<<"${NOTES[$m]}"
  done
}

# ------------------------------------------------------------------------------------------- main

main() {
  setup_python "${1:-}"
  build_verdict
  make_models
  local sst2=$SHARED/data/sst2/dev.tsv books=$SHARED/data/amazon-reviews/books/dev.tsv
  local sst2_name="SST-2 dev" books_name="Amazon books dev, first $LIMIT"
  [ -n "$SST2_LIMIT" ] && sst2_name="SST-2 dev, first $SST2_LIMIT"
  add_workload minilm-sst2 "MiniLM-L6, $sst2_name" Sources/VerdictDefaultModel/default-sentiment minilm-l6 "$sst2" "$SST2_LIMIT"
  add_workload minilm-books "MiniLM-L6, $books_name" Sources/VerdictDefaultModel/default-sentiment minilm-l6 "$books" "$LIMIT"
  add_workload distilbert-sst2 "DistilBERT-base, $sst2_name" "$MODELS_DIR/distilbert-base" distilbert-base "$sst2" "$SST2_LIMIT"
  add_workload distilbert-books "DistilBERT-base, $books_name" "$MODELS_DIR/distilbert-base" distilbert-base "$books" "$LIMIT"
  for w in "${WORKLOADS[@]}"; do run_workload "$w"; done
  run_training
  print_header
  print_tables
}

main "$@"
