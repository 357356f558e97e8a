#!/usr/bin/env python3
"""Enforces the include rules of docs/architecture.md.

Every #include "dir/file.h" in src/ must name a layer the including file's
layer may use. Layers, bottom to top:

  util -> engine (http) -> auth -> engine (registry client) -> checks
       -> doctor -> report -> cli / serve

A layer may include itself and anything below it, never above. The
registry client (src/engine/registry.*) is the one engine file above
auth: it composes the transport with the token layer. cli and serve are
the front ends and may include each other.

usage: check_layers.py [SRC_DIR]   (default: ../../src next to this file)
Exits 1 and names every violation; exits 2 if it found almost no includes
(a broken scan must not pass).
"""

import os
import re
import sys

ORDER = ["util", "engine/http", "auth", "engine/registry", "checks", "doctor", "report", "front"]
INCLUDE = re.compile(r'^\s*#\s*include\s+"([a-z_]+)/([A-Za-z0-9_]+)\.h"', re.M)


def layer_of(directory, stem):
    """The layer of src/<directory>/<stem>.[ch] (or of a header it names)."""
    if directory == "engine":
        return "engine/registry" if stem.startswith("registry") else "engine/http"
    if directory in ("cli", "serve"):
        return "front"
    return directory


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "..", "src")
    violations, seen = [], 0
    for root, _, files in os.walk(src):
        for name in sorted(files):
            if not name.endswith((".c", ".h")):
                continue
            path = os.path.join(root, name)
            rel = os.path.relpath(path, src)
            parts = rel.split(os.sep)
            if len(parts) != 2:
                continue  # src/main.c: the program, above everything
            mine = layer_of(parts[0], os.path.splitext(parts[1])[0])
            if mine not in ORDER:
                violations.append("%s: directory %s is not a known layer" % (rel, parts[0]))
                continue
            with open(path, encoding="utf-8") as f:
                text = f.read()
            for m in INCLUDE.finditer(text):
                seen += 1
                theirs = layer_of(m.group(1), m.group(2))
                if theirs not in ORDER:
                    violations.append("%s includes %s/%s.h: not a layer" % (rel, m.group(1), m.group(2)))
                elif ORDER.index(theirs) > ORDER.index(mine):
                    violations.append("%s (%s) includes %s/%s.h (%s), a layer above it" %
                                      (rel, mine, m.group(1), m.group(2), theirs))
    if seen < 50:
        print("check_layers: only %d includes found under %s: wrong directory?" % (seen, src))
        return 2
    for v in violations:
        print("layer violation: " + v)
    if violations:
        print("see docs/architecture.md for what each layer may include")
        return 1
    print("check_layers: %d includes, all within the layer rules" % seen)
    return 0


if __name__ == "__main__":
    sys.exit(main())
