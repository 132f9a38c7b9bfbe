#!/usr/bin/env python3
"""Counts the public declarations `import Verdict` brings in (the targets Verdict.swift re-exports),
and lists the ones that take raw pointers. A text count: every declaration written `public` or
`open` (funcs, inits, subscripts, properties, types, typealiases, enum cases of public enums are
not counted separately). Reads the working tree, or a git revision with --rev.

usage: tools/count_public_api.py [--rev REV] [--list]
"""
import re, subprocess, sys

args = sys.argv[1:]
rev = args[args.index("--rev") + 1] if "--rev" in args else None
root = subprocess.run(["git", "rev-parse", "--show-toplevel"], capture_output=True, text=True, check=True).stdout.strip()

def read(path):
    if rev:
        return subprocess.run(["git", "-C", root, "show", f"{rev}:{path}"], capture_output=True, text=True).stdout
    try:
        return open(f"{root}/{path}").read()
    except OSError:
        return ""

def files(target):
    cmd = ["git", "-C", root, "ls-tree", "-r", "--name-only", rev, f"Sources/{target}"] if rev else \
          ["git", "-C", root, "ls-files", "--cached", "--others", "--exclude-standard", f"Sources/{target}"]
    return [f for f in subprocess.run(cmd, capture_output=True, text=True).stdout.split() if f.endswith(".swift")]

exported = ["Verdict"] + re.findall(r"@_exported import (\w+)", read("Sources/Verdict/Verdict.swift"))
decl = re.compile(r"^\s*(?:@\w+(?:\([^)]*\))?\s+)*(?:public|open)\s+(?:(?:static|final|override|mutating|nonmutating|convenience|required|indirect|lazy|weak)\s+)*"
                  r"(func|init|subscript|var|let|struct|enum|class|actor|protocol|typealias|extension)\b[^\n]*", re.M)
total, pointer = 0, []
for target in exported:
    count = 0
    for f in files(target):
        for m in decl.finditer(read(f)):
            if m.group(1) == "extension":
                continue
            count += 1
            if "Unsafe" in m.group(0) and "Pointer" in m.group(0):
                pointer.append(f"{f}: {m.group(0).strip()[:110]}")
    total += count
    print(f"{target:20} {count}")
print(f"{'total':20} {total}")
print(f"taking raw pointers: {len(pointer)}")
if "--list" in args:
    print("\n".join(pointer))
