#!/usr/bin/env python3
"""What the browser's wasm module holds, part by part (#36's probe).

Reads the module rustc writes before wasm-opt (it keeps a name section), sizes each function's
body and each data segment, and sums them by the part of the product their names belong to.
The shares are of code and data bytes before wasm-opt and gzip: they say where the bytes are,
not what removing a part would save once optimised and compressed (that is measured by
building without it).

    python3 scripts/tools/module_parts.py [target/wasm-pkg/wasm32-unknown-unknown/wasm/fieldgate.wasm]
"""
import re
import sys

# The parts, by the first of these that a function's (demangled-enough) name contains.
PARTS = [
    ("core::compile", "compile: JSON policy -> plan"),
    ("core::condition::parse", "condition parser"),
    ("core::doc", "JSON document reader (records, subjects, options)"),
    ("explain", "explain"),
    ("core::sql", "scope filters and SQL"),
    ("filter", "scope filters and SQL"),
    ("flow", "approval flows"),
    ("workflow", "approval flows"),
    ("postcard", "binary reader (postcard)"),
    ("fieldgate::bundle", "bundle envelope and verification"),
    ("sha2", "bundle envelope and verification"),
    ("base64", "bundle envelope and verification"),
    ("serde_json", "serde_json (other)"),
    ("fieldgate::wasm", "wasm exports (bindings)"),
    ("core::session", "sessions and decisions"),
    ("core::policy", "policy model"),
    ("core::condition", "conditions (evaluation)"),
    ("fieldgate", "other fieldgate"),
    ("dlmalloc", "allocator"),
    ("hashbrown", "hash maps"),
    ("foldhash", "hash maps"),
    ("core::fmt", "formatting and panics"),
    ("panic", "formatting and panics"),
]


def has(name, key):
    """Whether a symbol names every identifier of `key` (`core::compile`): v0-mangled names
    (`_R…`) hold identifiers as `<length><name>`; other names are read as they are."""
    if not name.startswith("_R"):
        return key in name
    return all(re.search(rf"(?<!\d){len(x)}_?{re.escape(x)}(?![A-Za-z_])", name) for x in key.strip(":").split("::"))


def leb(b, i):
    """An unsigned LEB128 at `i`: (value, next index)."""
    v = shift = 0
    while True:
        x = b[i]
        i += 1
        v |= (x & 0x7F) << shift
        shift += 7
        if x < 0x80:
            return v, i


def sections(b):
    i = 8
    while i < len(b):
        sid = b[i]
        size, i = leb(b, i + 1)
        yield sid, b[i:i + size]
        i += size


def main(path):
    b = open(path, "rb").read()
    imported = 0
    bodies = []
    names = {}
    data = 0
    for sid, s in sections(b):
        if sid == 2:  # imports: functions among them take the first indices
            n, i = leb(s, 0)
            for _ in range(n):
                for _ in range(2):
                    ln, i = leb(s, i)
                    i += ln
                kind = s[i]
                i += 1
                if kind == 0:
                    _, i = leb(s, i)
                    imported += 1
                elif kind == 1:
                    i += 1
                    flags, i = leb(s, i)
                    _, i = leb(s, i)
                    if flags & 1:
                        _, i = leb(s, i)
                elif kind == 2:
                    flags, i = leb(s, i)
                    _, i = leb(s, i)
                    if flags & 1:
                        _, i = leb(s, i)
                elif kind == 3:
                    i += 2
        elif sid == 10:  # code
            n, i = leb(s, 0)
            for _ in range(n):
                size, j = leb(s, i)
                bodies.append(size)
                i = j + size
        elif sid == 11:  # data
            data += len(s)
        elif sid == 0:
            ln, i = leb(s, 0)
            if s[i:i + ln] != b"name":
                continue
            i += ln
            while i < len(s):
                sub = s[i]
                size, i = leb(s, i + 1)
                if sub == 1:
                    n, k = leb(s, i)
                    for _ in range(n):
                        idx, k = leb(s, k)
                        ln, k = leb(s, k)
                        names[idx] = s[k:k + ln].decode("utf-8", "replace")
                        k += ln
                i += size
    parts = {}
    for n, size in enumerate(bodies):
        name = names.get(imported + n, "")
        part = next((p for key, p in PARTS if has(name, key)), "other (std, unnamed)")
        parts[part] = parts.get(part, 0) + size
    parts["data (strings, tables)"] = data
    total = sum(parts.values())
    print(f"| part | bytes before wasm-opt | share |\n|---|---|---|")
    for part, size in sorted(parts.items(), key=lambda x: -x[1]):
        print(f"| {part} | {size:,} | {100 * size / total:.1f}% |")
    print(f"| total | {total:,} | 100% |")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "target/wasm-pkg/wasm32-unknown-unknown/wasm/fieldgate.wasm")
