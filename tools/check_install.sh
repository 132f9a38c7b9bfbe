#!/usr/bin/env bash
# Checks the installed `verdict` outside the checkout (docs/Install.md):
#  1. make install PREFIX=<empty folder>; from another folder with a minimal environment, classify
#     prints what the checkout's binary prints; --version and env exit 0; ldd lists no library of
#     the Swift toolchain; make uninstall leaves PREFIX empty.
#  2. when run as root with dpkg: make deb, dpkg -i, classify from /tmp, dpkg -r, and no file of the
#     package is left behind.
# Usage: tools/check_install.sh VERDICT_BINARY_IN_CHECKOUT     (CI: .build/debug/verdict)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
checkout_bin="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
cd "$root"
sentence="I really love this book"
want=$("$checkout_bin" classify "$sentence")
fail() { echo "FAIL: $*" >&2; exit 1; }

prefix=$(mktemp -d) home=$(mktemp -d) elsewhere=$(mktemp -d)
trap 'rm -rf "$prefix" "$home" "$elsewhere"' EXIT
make --no-print-directory install PREFIX="$prefix"
echo "installed:"; (cd "$prefix" && find . -type f | sort | sed 's/^/  /')
run() { (cd "$elsewhere" && env -i PATH="$prefix/bin:/usr/bin:/bin" HOME="$home" verdict "$@"); }
got=$(run classify "$sentence")
echo "installed verdict classify: $got"
echo "checkout  verdict classify: $want"
[ "$got" = "$want" ] || fail "the installed binary prints something else than the checkout's"
run --version
run env
# `verdict serve` runs the installed verdict-serve: it starts, answers /health, stops on SIGTERM.
(cd "$elsewhere" && env -i PATH="$prefix/bin:/usr/bin:/bin" HOME="$home" verdict serve --port 0 > "$elsewhere/serve.out" 2>&1) &
for _ in $(seq 100); do grep -q "^Serving" "$elsewhere/serve.out" 2>/dev/null && break; sleep 0.2; done
url=$(sed -n 's/^Serving .* on \(http:[^ ]*\)$/\1/p' "$elsewhere/serve.out")
[ -n "$url" ] || fail "verdict serve did not start: $(cat "$elsewhere/serve.out")"
python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1] + "/health", timeout=10)' "$url" || fail "verdict serve: /health failed"
pkill -TERM -f "$prefix/bin/verdict-serve" || true; wait || true
echo "installed verdict serve: answered at $url"
toolchain=$(dirname "$(dirname "$(readlink -f "$(command -v swift)")")")
for binary in verdict verdict-serve; do
  echo "ldd $prefix/bin/$binary:"; ldd "$prefix/bin/$binary" | sed 's/^/  /'
  if ldd "$prefix/bin/$binary" | grep -F "$toolchain" >/dev/null || ldd "$prefix/bin/$binary" | grep -E 'libswift|libFoundation|lib_Foundation|libdispatch|libBlocksRuntime' >/dev/null; then
    fail "the installed $binary links the Swift toolchain's runtime"
  fi
done
echo "size: $(du -h "$prefix/bin/verdict" | cut -f1) verdict, $(du -h "$prefix/bin/verdict-serve" | cut -f1) verdict-serve, $(du -sh "$prefix" | cut -f1) installed"
make --no-print-directory uninstall PREFIX="$prefix"
left=$(find "$prefix" -mindepth 1)
[ -z "$left" ] || fail "make uninstall left: $left"
echo "OK: make install / uninstall"

if [ "$(id -u)" = 0 ] && command -v dpkg >/dev/null; then
  dpkg -s verdict >/dev/null 2>&1 && fail "a verdict package is already installed; remove it first"
  make --no-print-directory deb
  deb=$(ls -t verdict_*_*.deb | head -1)
  echo "$deb: $(du -h "$deb" | cut -f1)"; dpkg-deb --info "$deb" | sed -n '/Package:/,$p' | sed 's/^/  /'
  dpkg -i "$deb"
  files=$(dpkg -L verdict | while read -r f; do [ -f "$f" ] && echo "$f"; done)
  got=$(cd /tmp && env -i PATH=/usr/bin:/bin HOME="$home" verdict classify "$sentence")
  echo "deb verdict classify: $got"
  [ "$got" = "$want" ] || { dpkg -r verdict; fail "the packaged binary prints something else than the checkout's"; }
  dpkg -r verdict
  for f in $files; do [ ! -e "$f" ] || fail "dpkg -r left $f"; done
  [ ! -e /usr/share/verdict ] || fail "dpkg -r left /usr/share/verdict"
  rm -f "$deb"
  echo "OK: make deb / dpkg -i / dpkg -r ($(echo "$files" | wc -l) files installed and removed)"
else
  echo "skipped the .deb check (needs root and dpkg)"
fi
