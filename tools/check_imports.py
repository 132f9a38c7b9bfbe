#!/usr/bin/env python3
"""Checks that every module a target imports is one of its declared dependencies in Package.swift
(Verdict's own targets and the products it uses), not merely reachable through another target.
Exits 1 and names the target and module otherwise.

usage: tools/check_imports.py
"""
import pathlib
import re
import sys

root = pathlib.Path(__file__).resolve().parent.parent
package = (root / "Package.swift").read_text(encoding="utf-8")
declaration = re.compile(r'\.(?:target|executableTarget|testTarget)\(\s*name:\s*"(\w+)"(.*?)(?=\n\s*\.(?:target|executableTarget|testTarget)\(|\n\s*\]\n\))', re.S)
targets = {name: set(re.findall(r'"(\w+)"', body.split("swiftSettings")[0].split("resources")[0]))
           for name, body in declaration.findall(package)}
products = {"ArgumentParser", "Hummingbird", "HTTPTypes"}
problems = []
for name, dependencies in sorted(targets.items()):
    folder = root / ("Tests" if name.endswith("Tests") else "Sources") / name
    imported = {m.group(1) for f in folder.rglob("*.swift") for line in f.read_text(encoding="utf-8").splitlines()
                if (m := re.match(r"\s*(?:@testable\s+|@_exported\s+)?import\s+(\w+)", line))}
    for module in sorted(imported & (set(targets) | products) - dependencies - {name}):
        problems.append(f"{name} imports {module}, which Package.swift does not list among its dependencies")
print(f"imports: {len(targets)} targets checked, {len(problems)} undeclared")
for p in problems:
    print("  " + p)
sys.exit(1 if problems else 0)
