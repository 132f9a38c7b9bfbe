# Sourced by check_recipes.sh and check_spark.sh: the verdict binary, the sample size and the input
# (arguments or environment), and python_with, which finds a Python that can import a module.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
VERDICT=$(realpath "${1:-${VERDICT:-$root/.build/release/verdict}}")
LIMIT=${2:-${LIMIT:-2000}}
INPUT=${INPUT:-$root/../shared/data/sst2/train.tsv}
[ -x "$VERDICT" ] || { echo "no verdict binary at $VERDICT" >&2; exit 2; }
[ -f "$INPUT" ] || { echo "SKIP: no input at $INPUT (the SST-2 training file of ../shared; set INPUT)"; exit 0; }

# python_with MODULE PACKAGE: prints python3 when it imports MODULE, else the Python of a venv
# under ${XDG_CACHE_HOME:-~/.cache} (VERDICT_SCALEOUT_VENV) where pip installs PACKAGE once.
python_with() {
  if python3 -c "import $1" 2>/dev/null; then echo python3; return; fi
  local venv=${VERDICT_SCALEOUT_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/verdict-scaleout-venv}
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv" >&2
  "$venv/bin/python" -c "import $1" 2>/dev/null || "$venv/bin/pip" install -q "$2" >&2
  echo "$venv/bin/python"
}
