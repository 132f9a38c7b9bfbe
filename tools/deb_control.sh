#!/usr/bin/env bash
# Prints the DEBIAN/control file of the package staged in ROOT (used by `make deb`).
# Depends: the Debian packages that own the shared libraries the binary links (its NEEDED entries),
# with the version installed here as the lower bound (the binary was linked against it).
# Usage: tools/deb_control.sh ROOT VERSION ARCH
set -euo pipefail
root=$1 version=$2 arch=$3
# Only the libraries the binaries name themselves (NEEDED), as dpkg-shlibdeps does; theirs come with them.
depends=$(for bin in "$root"/usr/bin/*; do
    for soname in $(objdump -p "$bin" | awk '/NEEDED/ { print $2 }'); do echo "$bin $soname"; done
  done | while read -r bin soname; do
    lib=$(ldd "$bin" | awk -v s="$soname" '$1 == s && $3 ~ /^\// { print $3 }')
    [ -n "$lib" ] || continue
    dpkg -S "$lib" 2>/dev/null || dpkg -S "$(readlink -f "$lib")" 2>/dev/null || dpkg -S "${lib/#\/lib\//\/usr\/lib\/}" 2>/dev/null || true
  done | cut -d: -f1 | sort -u | while read -r pkg; do
    v=$(dpkg-query -W -f='${Version}' "$pkg" 2>/dev/null | sed 's/-[^-]*$//')
    if [ -n "$v" ]; then echo "$pkg (>= $v)"; else echo "$pkg"; fi
  done | paste -sd, - | sed 's/,/, /g')
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat <<CONTROL
Package: verdict
Version: $version
Architecture: $arch
Maintainer: The Verdict developers <verdict@localhost>
Installed-Size: $size
Depends: $depends
Section: science
Priority: optional
Description: native Swift text classification with transformer models
 Tokenize, classify, evaluate, fine-tune, quantize and serve BERT-family and
 decoder text classifiers (Hugging Face checkpoints) without Python. Includes a
 default English sentiment model (MiniLM-L6 fine-tuned on SST-2).
CONTROL
