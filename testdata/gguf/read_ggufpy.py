#!/usr/bin/env python3
"""Read GGUF files written by cogedge with llama.cpp's gguf-py GGUFReader and
record what it read, for gguf/ggufpy_test.go (TestCogedgeFilesReadByGGUFPy).

Usage: python3 read_ggufpy.py PATH/TO/llama.cpp/gguf-py OUT.json FILE...

FILE paths are recorded relative to the folder of OUT.json. For each file the
record holds its sha256, the alignment, every key with gguf-py's type ids and
values (in file order), and every tensor's name, type id, shape (ggml order,
as stored), byte count and the sha256 of the bytes gguf-py maps for it. gguf-py
is imported from the path given (it is not part of this repository); see
testdata/README.md ("gguf").
"""
import hashlib
import json
import os
import sys

sys.path.insert(0, sys.argv[1])
from gguf import GGUFReader, GGUFValueType as VT  # noqa: E402

out_path = sys.argv[2]
base = os.path.dirname(os.path.abspath(out_path))
recs = []
for path in sys.argv[3:]:
    r = GGUFReader(path)
    with open(path, "rb") as fh:
        rec = {"file": os.path.relpath(os.path.abspath(path), base),
               "file_sha256": hashlib.sha256(fh.read()).hexdigest(),
               "alignment": int(r.alignment), "kvs": [], "tensors": []}
    for key, field in r.fields.items():
        if key.startswith("GGUF."):  # gguf-py's pseudo-fields for the header
            continue
        kv = {"key": key, "type_id": int(field.types[0]), "elem_type_id": None}
        if field.types[0] == VT.ARRAY:
            kv["elem_type_id"] = int(field.types[1]) if len(field.types) > 1 else None
        value = field.contents()
        kv["value"] = value
        rec["kvs"].append(kv)
    for t in r.tensors:
        rec["tensors"].append({
            "name": t.name, "type_id": int(t.tensor_type),
            "shape": [int(d) for d in t.shape], "nbytes": int(t.n_bytes),
            "sha256": hashlib.sha256(t.data.tobytes()).hexdigest(),
        })
    recs.append(rec)
with open(out_path, "w", encoding="utf-8") as fh:
    json.dump({"generator": "read_ggufpy.py with llama.cpp gguf-py GGUFReader", "files": recs},
              fh, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    fh.write("\n")
