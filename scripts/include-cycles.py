#!/usr/bin/python3
"""include-cycles.py - cycles in the module graph of C code.

    scripts/include-cycles.py [DIR...]     (default: listener)

A module is a .c file and the .h of the same path (listener/request.c and
listener/request.h are the module listener/request).  Module A depends on
module B when A's .c or .h includes B's .h.  A header without a .c of its
own (types and macros only, e.g. lib/config-keys.h) is no module: what it
includes counts for whoever includes it.  Prints every cycle (strongly
connected set of more than one module) among the modules under DIR and
the modules they include, and exits 1 if there is one; prints "no cycle"
and exits 0 otherwise.  Run from the top of the source tree.
"""
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def modules_under(dirs):
    mods = {}
    for d in dirs:
        for root, _, files in os.walk(d):
            for f in files:
                if f.endswith((".c", ".h")):
                    path = os.path.join(root, f)
                    mods.setdefault(path[:-2], []).append(path)
    return mods


def includes(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return [i[:-2] for i in INCLUDE.findall(f.read()) if i.endswith(".h")]


def graph(mods):
    code = {m for m, files in mods.items() if any(f.endswith(".c") for f in files)}
    edges = {}
    for mod in code:
        deps, seen = set(), set()
        todo = [inc for path in mods[mod] for inc in includes(path)]
        while todo:
            target = todo.pop()
            if target == mod or target in seen or target not in mods:
                continue
            seen.add(target)
            if target in code:
                deps.add(target)
            else:  # a header-only module: look through it
                todo.extend(includes(target + ".h"))
        edges[mod] = deps
    return edges


def cycles(edges):
    """Tarjan's strongly connected components of more than one node."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def main():
    dirs = sys.argv[1:] or ["listener"]
    mods = modules_under(dirs + ["lib"])
    edges = graph(mods)
    wanted = {m for m in edges if any(m.startswith(d.rstrip("/") + "/") for d in dirs)}
    found = [c for c in cycles(edges) if any(m in wanted for m in c)]
    for c in found:
        print("cycle: " + " <-> ".join(c))
        for m in c:
            print("   %s -> %s" % (m, ", ".join(sorted(d for d in edges[m] if d in c))))
    if not found:
        print("no cycle among the modules of %s" % " ".join(dirs))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
