#!/usr/bin/env python3
"""Fails when a relative link of a tracked Markdown file points to nothing, or when a tracked file
points a reader to a document outside the repository (the product's rules live in docs/product/)."""
import os
import re
import subprocess
import sys

OUTSIDE = re.compile(r"\bSPEC §|\b[Ss]eed 00[0-9]\b|MACHINE\.md|design card|\.\./shared/")
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")

failures = []
for path in subprocess.check_output(["git", "ls-files"], text=True).split():
    if path == os.path.relpath(__file__) or not os.path.isfile(path):
        continue
    try:
        text = open(path, encoding="utf-8").read()
    except UnicodeDecodeError:
        continue
    for number, line in enumerate(text.splitlines(), 1):
        if OUTSIDE.search(line):
            failures.append(f"{path}:{number}: points outside the repository; point to docs/product/ instead")
    if path.endswith(".md"):
        for target in LINK.findall(text):
            if re.match(r"[a-z]+:", target):
                continue
            if not os.path.exists(os.path.normpath(os.path.join(os.path.dirname(path), target))):
                failures.append(f"{path}: the link to {target} leads nowhere; fix or remove it")

for failure in failures:
    print(f"error: {failure}", file=sys.stderr)
sys.exit(1 if failures else 0)
