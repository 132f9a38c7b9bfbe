#!/usr/bin/env bash
# The long fuzz run (docs/Reliability.md): every harness of Tests/VerdictFuzzTests, each in its own
# process, for ITERATIONS mutated inputs (default 1,000,000), in a release build.
# A crash stops that harness; its input is .build/fuzz/<target>-current.bin — copy it to
# Fixtures/fuzz/<target>/NAME.bin (replayed first by every later run) and fix the reader.
# Usage: tools/fuzz.sh [ITERATIONS] [SEED]      JOBS=2 runs two harnesses at a time.
set -euo pipefail
cd "$(dirname "$0")/.."
iterations=${1:-1000000} seed=${2:-$RANDOM} jobs=${JOBS:-2}
flags=(-c release -Xswiftc -enable-testing)
swift build "${flags[@]}" --build-tests >/dev/null
# The test bundle is run directly: `swift test` processes would wait for each other's lock on .build.
tests="$(swift build "${flags[@]}" --show-bin-path)/VerdictPackageTests.xctest"
export VERDICT_FUZZ_ITERATIONS=$iterations VERDICT_FUZZ_SEED=$seed VERDICT_FUZZ_SAVE=.build/fuzz VERDICT_NUM_THREADS=1
echo "fuzzing $iterations inputs per harness, seed $seed, $jobs at a time"
harnesses="testSafeTensors testTorchPickle testGGUF testConfigJSON testTokenizerJSON testVocabularyAndMerges
  testTokenizersOnArbitraryText testDelimitedTables testJSONLines testServerRequests testModelInputs"
status=0
printf '%s\n' $harnesses | TESTS="$tests" xargs -P "$jobs" -I{} sh -c '
  out=$("$TESTS" "VerdictFuzzTests.FuzzTests/{}" 2>&1); rc=$?
  echo "$out" | grep "^fuzz "
  if [ $rc -ne 0 ]; then echo "CRASH or failure in {} (exit $rc); the input is in .build/fuzz/"; echo "$out" | tail -20; exit 1; fi
' || status=1
exit $status
