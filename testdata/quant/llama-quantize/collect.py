#!/usr/bin/env python3
"""Build cogvlm-mixes.json from llama-quantize's outputs, for
quant/requant/llamaquantize_test.go.

Usage: python3 collect.py PATH/TO/llama.cpp/gguf-py INPUT.json OUTDIR OUT.json

INPUT.json describes the F32 input file (keys and tensor shapes; the Go test
writes the same file from it). OUTDIR holds llama-quantize's outputs, one per
mix, named <MIX>.gguf or <MIX>-pure.gguf (see testdata/README.md, "quant").
Each output is read with gguf-py's GGUFReader, an independent reader, and the
type of every tensor recorded under its mix. gguf-py is imported from the path
given; it is not part of this repository.
"""
import json
import os
import sys

sys.path.insert(0, sys.argv[1])
from gguf import GGUFReader  # noqa: E402

with open(sys.argv[2], encoding="utf-8") as fh:
    rec = json.load(fh)
outdir = sys.argv[3]
mixes = []
for fname in sorted(os.listdir(outdir)):
    if not fname.endswith(".gguf"):
        continue
    stem = fname[:-len(".gguf")]
    pure = stem.endswith("-pure")
    ftype = stem[:-len("-pure")] if pure else stem
    r = GGUFReader(os.path.join(outdir, fname))
    types = {t.name: t.tensor_type.name.lower() for t in r.tensors}
    if len(types) != len(rec["tensors"]):
        sys.exit(f"{fname}: {len(types)} tensors, input has {len(rec['tensors'])}")
    mixes.append({"ftype": ftype, "pure": pure, "types": types})
rec["mixes"] = mixes
with open(sys.argv[4], "w", encoding="utf-8") as fh:
    json.dump(rec, fh, indent=0, sort_keys=False)
    fh.write("\n")
