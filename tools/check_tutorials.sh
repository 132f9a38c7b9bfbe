#!/usr/bin/env bash
# Builds Examples/Tutorials, runs every tutorial, and compares the numbers each records with what
# the same steps give in Python (Fixtures/tutorials/goldens.json, tools/make_tutorial_goldens.py):
# ids, tokens and labels exactly, floats within 1e-4. Needs tools/fetch_weights.sh's MiniLM.
# FineTuning trains MiniLM twice on 280 sentences (about a minute on 2 cores); its goldens come
# from tools/make_finetune_goldens.py.
# usage: tools/check_tutorials.sh            (env: SWIFT_BUILD_FLAGS, default "-Xcc -O3")
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root/Examples/Tutorials"
# shellcheck disable=SC2086
swift build ${SWIFT_BUILD_FLAGS:--Xcc -O3}
bin=$(swift build ${SWIFT_BUILD_FLAGS:--Xcc -O3} --show-bin-path)
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
failed=0
for tutorial in PipelineInThreeStages BertInputsAndOutputs BehindThePipeline FineTuning; do
  echo "== $tutorial"
  VERDICT_TUTORIAL_RECORD="$work/$tutorial.json" "$bin/$tutorial"
  python3 - "$work/$tutorial.json" "$root/Fixtures/tutorials/goldens.json" <<'PY' || failed=1
import json, sys
record, goldens = (json.load(open(p)) for p in sys.argv[1:3])
(section, got), = record.items()
want = goldens[section]
problems = []
def compare(path, a, b):
    if isinstance(b, float) or (isinstance(a, float) and isinstance(b, (int, float))):
        if not isinstance(a, (int, float)) or abs(a - b) > 1e-4: problems.append(f"{path}: {a} != {b}")
    elif isinstance(b, list):
        if not isinstance(a, list) or len(a) != len(b): problems.append(f"{path}: {str(a)[:80]} != {str(b)[:80]}")
        else: [compare(f"{path}[{i}]", x, y) for i, (x, y) in enumerate(zip(a, b))]
    elif isinstance(b, dict):
        if not isinstance(a, dict): problems.append(f"{path}: not an object")
        else: [compare(f"{path}.{k}", a.get(k), b[k]) for k in a]   # the keys the tutorial recorded
    elif a != b: problems.append(f"{path}: {a!r} != {b!r}")
for key, value in got.items():
    if key not in want: problems.append(f"{key}: no golden"); continue
    compare(key, value, want[key])
for p in problems[:20]: print("MISMATCH", p)
print(f"{section}: {len(got)} values compared with Python, {len(problems)} mismatches")
sys.exit(1 if problems else 0)
PY
done
exit $failed
