#!/usr/bin/env bash
# Builds the DocC documentation of Verdict's library targets (swift-docc-plugin) and fails on any
# documentation warning (an unresolved symbol link, a malformed comment). SwiftPM's own notes about
# files in dependencies are not documentation warnings and are left out. Archives land in
# .build/plugins/Swift-DocC/outputs/<Target>.doccarchive.
# usage: tools/check_docs.sh
set -euo pipefail
cd "$(dirname "$0")/.."
targets=(Verdict VerdictParallel VerdictTensor VerdictTokenizers VerdictHub VerdictModels VerdictPipelines VerdictDatasets VerdictMetrics
         VerdictTraining VerdictServer VerdictJSON VerdictProgress VerdictDefaultModel)
log=$(mktemp); trap 'rm -f "$log"' EXIT
swift package --disable-sandbox generate-documentation $(printf -- '--target %s ' "${targets[@]}") 2>&1 | tee "$log" | grep -E "^(Generated|Finished building documentation)" || true
warnings=$(grep -E "^(warning|error):" "$log" | grep -v "found [0-9]* file(s) which are unhandled" || true)
if [ -n "$warnings" ]; then echo "$warnings" >&2; echo "docs: $(echo "$warnings" | wc -l) warnings" >&2; exit 1; fi
echo "docs: ${#targets[@]} targets, no warnings"
