#!/usr/bin/env bash
# Local simulations of the scale-out recipes, each checked against one single-process run of
# `verdict classify --jsonl` by verify_jsonl.py: every record back exactly once, fields unchanged,
# same labels. The input is LIMIT SST-2 sentences as JSON Lines with a blank line every 100 lines.
#   k8s:      the container command of k8s-indexed-job.yaml once per JOB_COMPLETION_INDEX 0..N-1
#   shard:    --shard I/7 over standard input, I = 0..6
#   hadoop:   input cut into 5 splits of whole lines, hadoop-streaming.sh's mapper per split (+ the tab
#             Hadoop may add), in a task directory holding the bundle as vd/ (vd/model = MODEL)
#   parallel: parallel.sh with small blocks (output also in input order)
# usage: Examples/ScaleOut/check_recipes.sh [VERDICT] [LIMIT]
#   env: VERDICT (default .build/release/verdict), LIMIT (2000), INPUT (SST-2 train.tsv beside the
#   repo), MODEL (model folder for every run; default: the bundled model, and for the mapper
#   Sources/VerdictDefaultModel/default-sentiment), EXTRA (more verdict args, e.g. "--dtype int8").
source "$(dirname "$0")/common.sh"
EXTRA=${EXTRA:-}
ARGS="${MODEL:+--model $(realpath "$MODEL")} $EXTRA"
PY=$(python_with yaml pyyaml)
if ! command -v parallel >/dev/null && [ "$(id -u)" = 0 ]; then
  apt-cache policy parallel 2>/dev/null | grep -q 'Candidate: [0-9]' || apt-get update -q >/dev/null
  apt-cache policy parallel 2>/dev/null | grep -q 'Candidate: [0-9]' && apt-get install -y -q parallel >/dev/null
fi
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
mkdir "$work/bin" && ln -s "$VERDICT" "$work/bin/verdict" && export PATH="$work/bin:$PATH"
python3 "$here/tsv_to_jsonl.py" "$INPUT" --limit "$LIMIT" | awk '{print} NR % 100 == 0 {print ""}' > "$work/in.jsonl"
SECONDS=0
verdict classify --jsonl $ARGS < "$work/in.jsonl" > "$work/ref.jsonl"
echo "single process: ${SECONDS}s"
passed=0 failed=0
check() {  # check NAME COMMAND...: count a pass or a failure
  local name=$1; shift
  if "$@"; then passed=$((passed + 1)); echo "PASS $name (${SECONDS}s)"
  else failed=$((failed + 1)); echo "FAIL $name"; fi
}
verify() { python3 "$here/verify_jsonl.py" "$work/in.jsonl" "$work/ref.jsonl" "$@"; }

# k8s: the Job's own command and environment, with the input and output on local paths.
job() { "$PY" -c 'import sys, yaml; s = yaml.safe_load(open(sys.argv[1]))["spec"]
c = s["template"]["spec"]["containers"][0]; print(eval(sys.argv[2]))' "$here/k8s-indexed-job.yaml" "$1"; }
n=$(job 's["completions"]')
mapfile -t kenv < <(job '"\n".join(e["name"] + "=" + e["value"] for e in c["env"])')
script=$(job 'c["args"][0]')
cargs=$(job '{e["name"]: e["value"] for e in c["env"]}["CLASSIFY_ARGS"]')
check "k8s --shard N = completions ($n)" grep -qF -- "--shard \"\${JOB_COMPLETION_INDEX}/$n\"" <<< "$script"
SECONDS=0
for ((i = 0; i < n; i++)); do
  env "${kenv[@]}" JOB_COMPLETION_INDEX=$i INPUT="$work/in.jsonl" OUTPUT_DIR="$work/k8s" \
    CLASSIFY_ARGS="$cargs $ARGS" sh -c "$script"
done
check "k8s indexed job ($n pods)" verify "$work"/k8s/part-*.jsonl

SECONDS=0
for i in 0 1 2 3 4 5 6; do verdict classify --jsonl --shard "$i/7" $ARGS < "$work/in.jsonl" > "$work/shard-$i.jsonl"; done
check "shard 7 ways" verify "$work"/shard-*.jsonl
# ids are the indexes k of the non-blank lines here: shard I must hold exactly the k with k % 7 == I.
check "shard I/7 holds k % 7 == I" python3 -c 'import json, sys
bad = [o["id"] for i in range(7) for o in map(json.loads, open(sys.argv[1] + f"/shard-{i}.jsonl")) if o["id"] % 7 != i]
print(f"{len(bad)} records in the wrong shard", bad[:5]); sys.exit(bool(bad))' "$work"

# hadoop: split into whole lines; per split, hadoop-streaming.sh's MAPPER in a task directory with
# the bundle unpacked as vd/ (vd/model = MODEL), its output lines ending in a tab; parts concatenated.
SECONDS=0
mapper=$(sed -n 's/^MAPPER=${MAPPER:-"\(.*\)"}$/\1/p' "$here/hadoop-streaming.sh")
mkdir -p "$work/task/vd" "$work/hadoop" && split -n l/5 "$work/in.jsonl" "$work/hadoop/split-"
ln -s "$VERDICT" "$work/task/vd/verdict" && ln -s "$(realpath "${MODEL:-$root/Sources/VerdictDefaultModel/default-sentiment}")" "$work/task/vd/model"
for s in "$work"/hadoop/split-*; do
  (cd "$work/task" && VERDICT_NUM_THREADS=1 $mapper $EXTRA < "$s") | sed 's/$/\t/' > "${s/split-/part-}"
done
cat "$work"/hadoop/part-* > "$work/hadoop.jsonl"
check "hadoop streaming mapper \"$mapper\" (5 splits)" verify "$work/hadoop.jsonl"

if command -v parallel >/dev/null; then
  SECONDS=0
  VERDICT=verdict BLOCK=$(( $(stat -c %s "$work/in.jsonl") / 6 )) "$here/parallel.sh" "$work/in.jsonl" $ARGS > "$work/parallel.jsonl"
  check "GNU parallel --pipe --keep-order" verify --ordered "$work/parallel.jsonl"
else
  echo "SKIP GNU parallel: not installed (apt-get install parallel)"
fi
echo "recipes: $passed passed, $failed failed"
[ "$failed" = 0 ]
