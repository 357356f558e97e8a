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

No circles between files either: when a function defined in one .c file
calls a function defined in another, the first is above the second, and
no chain of such calls comes back to where it started (auth's resolver
calls its credential sources, which call only creds_common.c; a check's
pieces call down to their record, never back up).

usage: check_layers.py [SRC_DIR]   (default: ../../src next to this file)
Exits 1 and names every violation; exits 2 if it found almost no includes
or function definitions (a broken scan must not pass).
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


# A function defined at the top level (not static), its body opening after the parameters.
DEFINITION = re.compile(r'^(?!static\b)(?:[A-Za-z_]\w*[ \t*]+)+\**([a-z_]\w*)\([^;{]*?\)\s*\{',
                        re.M | re.S)
CALL = re.compile(r'\b([a-z_]\w*)\s*\(')


def strip_comments_and_strings(text):
    text = re.sub(r'/\*.*?\*/', '', text, flags=re.S)
    text = re.sub(r'//[^\n]*', '', text)
    return re.sub(r'"(?:\\.|[^"\\\n])*"', '""', text)


def file_circles(src):
    """The sets of .c files under src that call each other round (more than one file each)."""
    texts, defined = {}, {}
    for root, _, files in os.walk(src):
        for name in sorted(files):
            if name.endswith(".c"):
                path = os.path.relpath(os.path.join(root, name), src)
                with open(os.path.join(root, name), encoding="utf-8") as f:
                    texts[path] = strip_comments_and_strings(f.read())
    for path, text in sorted(texts.items()):
        for m in DEFINITION.finditer(text):
            defined.setdefault(m.group(1), path)
    calls = {path: set() for path in texts}
    for path, text in texts.items():
        for m in CALL.finditer(text):
            other = defined.get(m.group(1))
            if other and other != path:
                calls[path].add(other)
    # Tarjan's strongly connected components, without recursion
    index, low, on_stack, stack, circles = {}, {}, set(), [], []
    for start in sorted(calls):
        if start in index:
            continue
        work = [(start, iter(sorted(calls[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            advanced = False
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(calls[nxt]))))
                    advanced = True
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    circles.append(sorted(group))
    return circles, len(defined)


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
    circles, functions = file_circles(src)
    if functions < 100:
        print("check_layers: only %d function definitions found under %s: wrong directory?" %
              (functions, src))
        return 2
    for group in circles:
        violations.append("files that call each other round: " + ", ".join(group))
    for v in violations:
        print("layer violation: " + v)
    if violations:
        print("see docs/architecture.md for what each layer may include")
        return 1
    print("check_layers: %d includes, all within the layer rules; %d functions, no circles between files" %
          (seen, functions))
    return 0


if __name__ == "__main__":
    sys.exit(main())
