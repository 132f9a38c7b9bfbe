#!/usr/bin/env bash
# Builds Examples/QuickStart against Verdict as a *versioned* dependency — a local git repository of
# this checkout's committed tree, tagged with the current version — and checks that it prints the
# same scores as `verdict classify`, run from another folder with no VERDICT_* variables.
# Usage: tools/check_dependent_package.sh VERDICT_BINARY     (CI: .build/debug/verdict)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
verdict_bin="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
version=$(sed -n 's/.*static let current = "\(.*\)".*/\1/p' "$root/Sources/Verdict/Version.swift")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The committed tree as a fresh repository (works from shallow CI clones too), tagged $version.
mkdir "$work/verdict"
git -C "$root" archive HEAD | tar -x -C "$work/verdict"
git -C "$work/verdict" init -q
git -C "$work/verdict" add -A
git -C "$work/verdict" -c user.name=ci -c user.email=ci@localhost commit -q -m "Verdict $version"
git -C "$work/verdict" tag "$version"

cp -R "$root/Examples/QuickStart" "$work/quickstart"
rm -rf "$work/quickstart/.build"
echo "building Examples/QuickStart against file://$work/verdict from: \"$version\""
VERDICT_PACKAGE_URL="file://$work/verdict" swift build --package-path "$work/quickstart" 2>&1 | tail -3
exe="$work/quickstart/.build/debug/QuickStart"

cd "$work"
got=$(env -i PATH=/usr/bin:/bin HOME="$work" "$exe")
echo "QuickStart: $got"
want=$(env -i PATH=/usr/bin:/bin HOME="$work" "$verdict_bin" classify --top-k all "I really love this book" "Dull." | cut -f1)
want="[[$(echo "$want" | sed -n 1p)], [$(echo "$want" | sed -n 2p)]]"
echo "verdict classify: $want"
if [ "$got" != "$want" ]; then echo "FAIL: the dependent package's scores differ from verdict classify" >&2; exit 1; fi
ls -d "$work/quickstart/.build/debug/"*_VerdictDefaultModel.resources/default-sentiment >/dev/null
echo "OK: a package depending on Verdict $version classifies with the bundled model ($(ls -d "$work"/quickstart/.build/debug/*_VerdictDefaultModel.resources))"
