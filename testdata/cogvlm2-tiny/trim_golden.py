"""trim_golden.py: shrink golden.py dumps of the 128256-vocabulary tiny CogVLM2 (testdata/README.md).

One logits row is 513 KB, so the full dumps (every prompt position and 16 decode steps) are
8-17 MB per case. For each case folder given, this keeps what the Go tests compare and drops the rest:

- logits_argmax.i32.bin: the argmax of the reference's logits at every position (lowest id on ties);
- logits_rows.f32.bin: the full logits rows at the positions listed in the manifest's
  "logits_rows" (the first and last position, and for an image case the first patch row);
- decode_logits_rows.f32.bin: the decode_logits rows listed in "decode_logits_rows" (the first and
  the last cached one-token step);
- logits.f32.bin and decode_logits.f32.bin are deleted; the manifest records that under "removed".
  final_hidden (every position) stays, so the lm_head input is still checked everywhere.

    /usr/bin/python3 trim_golden.py golden/cogvlm2-tiny-*
"""
import hashlib
import json
import os
import sys

import numpy as np


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def put(d, man, name, arr, dtype, desc, axes):
    fn = f"{name}.{'f32' if dtype == 'float32' else 'i32'}.bin"
    path = os.path.join(d, fn)
    np.ascontiguousarray(arr, dtype="<f4" if dtype == "float32" else "<i4").tofile(path)
    man["tensors"][name] = {"file": fn, "dtype": dtype, "shape": list(arr.shape), "axes": axes,
                            "desc": desc, "sha256": sha(path)}


def trim(d):
    mp = os.path.join(d, "manifest.json")
    with open(mp) as f:
        man = json.load(f)
    if "removed" in man:
        print(f"{d}: already trimmed")
        return
    t = man["tensors"]
    L, V = t["logits"]["shape"]
    logits = np.fromfile(os.path.join(d, t["logits"]["file"]), dtype="<f4").reshape(L, V)
    n_new = t["decode_logits"]["shape"][0]
    dec = np.fromfile(os.path.join(d, t["decode_logits"]["file"]), dtype="<f4").reshape(n_new, V)
    rows = [0, L - 1]
    if man.get("image"):
        rows = [0, 2, L - 1]  # BOS, the first patch, the last prompt position
    drows = [1, n_new - 1]
    put(d, man, "logits_argmax", logits.argmax(axis=1).astype(np.int32), "int32",
        "argmax of logits at every position (lowest id on ties)", ["L"])
    put(d, man, "logits_rows", logits[rows], "float32",
        "logits rows at the positions in logits_rows", ["len(logits_rows)", "V"])
    put(d, man, "decode_logits_rows", dec[drows], "float32",
        "decode_logits rows listed in decode_logits_rows", ["len(decode_logits_rows)", "V"])
    man["logits_rows"] = rows
    man["decode_logits_rows"] = drows
    for name in ("logits", "decode_logits"):
        os.remove(os.path.join(d, t[name]["file"]))
        del t[name]
    man["removed"] = {
        "logits": "replaced by logits_argmax (every position) and logits_rows to keep testdata small (trim_golden.py)",
        "decode_logits": "replaced by decode_logits_rows; generated_ids kept (trim_golden.py)",
    }
    with open(mp, "w") as f:
        json.dump(man, f, indent=1)
        f.write("\n")
    print(f"{d}: kept rows {rows} of {L}, decode rows {drows} of {n_new}")


if __name__ == "__main__":
    for d in sys.argv[1:]:
        trim(d)
