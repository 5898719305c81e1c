#!/usr/bin/env python3
"""Checks the module graph of src/: no import cycle, and no arrow up a layer.

Each file is a module; an edge is any `crate::`, `super::` or `self::` path in it (outside its
`#[cfg(test)]` tests) that names another module. A module's own children and parent are not
edges (a parent declares its children; children may use what the parent re-exports).
Exits 1 with every cycle and every forbidden arrow listed.
"""
import os
import re
import sys

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "src")

# (module prefix, prefixes it must not depend on): the layers, top to bottom.
FORBIDDEN = [
    ("core", ["admin", "bundle", "host", "wasm", "cli", "server"]),
    ("bundle", ["admin", "host", "wasm", "cli", "server"]),
    ("admin", ["host", "wasm", "cli", "server"]),
    ("host", ["wasm", "cli", "server"]),
    ("wasm", ["admin", "host", "cli", "server"]),
    ("server::store", ["server::http", "server::services", "server::state", "server::demo",
                       "server::start", "server::error"]),
    ("server::error", ["server::http", "server::state", "server::demo", "server::start"]),
    ("server::state", ["server::http", "server::demo", "server::start",
                       "server::services::publish", "server::services::peers"]),
    ("server::services", ["server::http", "server::demo", "server::start"]),
    ("server::http", ["server::demo", "server::start"]),
]


def modules():
    out = {}
    for d, _, files in os.walk(ROOT):
        for f in files:
            if not f.endswith(".rs"):
                continue
            p = os.path.join(d, f)
            m = os.path.relpath(p, ROOT)[:-3].replace(os.sep, "::")
            if m.endswith("::mod"):
                m = m[: -len("::mod")]
            if m in ("lib", "main") or m.startswith("bin::"):
                continue
            out[m] = p
    return out


def resolve(mods, cur, path):
    parts = path.split("::")
    base = cur.split("::")
    if parts[0] == "crate":
        base, parts = [], parts[1:]
    elif parts[0] == "self":
        parts = parts[1:]
    else:
        while parts and parts[0] == "super":
            base, parts = base[:-1], parts[1:]
    for i in range(len(parts), 0, -1):
        m = "::".join(base + parts[:i])
        if m in mods:
            return m
    m = "::".join(base)
    return m if m in mods else None


def edges(mods):
    out = {m: set() for m in mods}
    for m, p in mods.items():
        text = open(p, encoding="utf-8").read().split("#[cfg(test)]\nmod tests")[0]
        paths = re.findall(r"\b((?:crate|super|self)(?:::\w+)+)", text)
        for base, group in re.findall(r"use ((?:crate|super|self)(?:::\w+)*)::\{([^}]*)\}", text):
            paths += [base + "::" + n.split("::")[0] for n in re.split(r"[,\s]+", group)
                      if n and n not in ("self", "*")]
        for path in paths:
            r = resolve(mods, m, path)
            if r and r != m and not m.startswith(r + "::") and not r.startswith(m + "::"):
                out[m].add(r)
    return out


def cycles(graph):
    index, low, stack, on, found = {}, {}, [], set(), []
    counter = [0]
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            scc = []
            while True:
                w = stack.pop()
                on.discard(w)
                scc.append(w)
                if w == v:
                    break
            if len(scc) > 1:
                found.append(sorted(scc))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def under(m, prefix):
    return m == prefix or m.startswith(prefix + "::")


def main():
    mods = modules()
    graph = edges(mods)
    problems = []
    for scc in cycles(graph):
        inner = {a: sorted(b for b in graph[a] if b in scc) for a in scc}
        problems.append("import cycle: " + "; ".join(f"{a} -> {', '.join(bs)}" for a, bs in inner.items()))
    for m, targets in sorted(graph.items()):
        for layer, banned in FORBIDDEN:
            if under(m, layer):
                for t in sorted(targets):
                    if any(under(t, b) for b in banned) and not under(t, layer):
                        problems.append(f"{m} -> {t}: {layer} may not depend on {t}")
    for p in problems:
        print(p)
    print(f"{len(mods)} modules, {sum(len(v) for v in graph.values())} arrows, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
