#!/usr/bin/env python3
"""File-level import graph of a crate's src/ (`crate::` and `super::` paths in code,
not comments or tests, resolved to files); prints every cycle and exits 1 if there is one.
Run by ops/test.sh for every crate (docs/ARCHITECTURE.md)."""
import os, re, sys
src = sys.argv[1]
files = {}
for d, _, fs in os.walk(src):
    for f in fs:
        if f.endswith('.rs'):
            p = os.path.join(d, f)
            rel = os.path.relpath(p, src)
            files[rel] = open(p).read()
def mod_of(rel):
    parts = rel[:-3].split('/')
    if parts[-1] in ('mod', 'lib'):
        parts = parts[:-1]
    return parts
def file_of(mod):
    for n in range(len(mod), -1, -1):
        m = mod[:n]
        for cand in ['/'.join(m) + '.rs', '/'.join(m + ['mod']) + '.rs'] if m else ['lib.rs']:
            if cand in files:
                return cand
    return None
edges = {f: set() for f in files}
for rel, text in files.items():
    # strip tests
    text = text.split('#[cfg(test)]')[0]
    text = '\n'.join(l for l in text.split('\n') if not l.lstrip().startswith('//'))
    me = mod_of(rel)
    for m in re.finditer(r'\b(crate|super)((?:::[a-z_][a-z0-9_]*)+)', text):
        base = [] if m.group(1) == 'crate' else me[:-1]
        path = base + [p for p in m.group(2).split('::') if p]
        # brace imports: use crate::a::{b, c}
        t = file_of(path)
        if t and t != rel and t != 'lib.rs':
            edges[rel].add(t)
    for m in re.finditer(r'\b(crate|super)((?:::[a-z_][a-z0-9_]*)*)::\{([^}]*)\}', text):
        base = [] if m.group(1) == 'crate' else me[:-1]
        path = base + [p for p in m.group(2).split('::') if p]
        for item in m.group(3).split(','):
            item = item.strip().split('::')[0].split(' ')[0]
            if item and item[0].islower():
                t = file_of(path + [item])
                if t and t != rel and t != 'lib.rs':
                    edges[rel].add(t)
# Tarjan
idx = {}; low = {}; st = []; on = set(); sccs = []; c = [0]
sys.setrecursionlimit(10000)
def sc(v):
    idx[v] = low[v] = c[0]; c[0] += 1; st.append(v); on.add(v)
    for w in edges[v]:
        if w not in idx:
            sc(w); low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], idx[w])
    if low[v] == idx[v]:
        comp = []
        while True:
            w = st.pop(); on.discard(w); comp.append(w)
            if w == v: break
        if len(comp) > 1: sccs.append(sorted(comp))
for v in files:
    if v not in idx: sc(v)
for s in sccs:
    print('cycle:', ' '.join(s))
    for a in s:
        print('   ', a, '->', ' '.join(sorted(e for e in edges[a] if e in s)))
sys.exit(1 if sccs else 0)
