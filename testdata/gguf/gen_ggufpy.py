#!/usr/bin/env python3
"""Write small GGUF files with llama.cpp's gguf-py GGUFWriter, plus a JSON
record of what the writer was told to write, for gguf/ggufpy_test.go.

Usage: python3 gen_ggufpy.py PATH/TO/llama.cpp/gguf-py OUTDIR

gguf-py is imported from the path given (it is not part of this repository);
see testdata/README.md ("gguf") for the commit used. Output is deterministic
(fixed seeds).
"""
import hashlib
import json
import os
import struct
import sys

sys.path.insert(0, sys.argv[1])
import numpy as np  # noqa: E402
import gguf  # noqa: E402
from gguf import GGUFValueType as VT  # noqa: E402
from gguf import GGMLQuantizationType as QT  # noqa: E402

OUT = sys.argv[2]


def f32(x):
    """x rounded to float32, as GGUFWriter packs it."""
    return struct.unpack("<f", struct.pack("<f", x))[0]


def half_bytes(vals):
    return np.asarray(vals, dtype=np.float16).tobytes()


def rand_q4_k(rng, nblocks):
    # block_q4_K: fp16 d, fp16 dmin, 12 bytes of 6-bit scales/mins, 128 bytes of nibbles
    out = bytearray()
    for _ in range(nblocks):
        out += half_bytes([rng.uniform(0.001, 0.1), rng.uniform(0.0, 0.05)])
        out += rng.integers(0, 256, 12 + 128, dtype=np.uint8).tobytes()
    return bytes(out)


def rand_q6_k(rng, nblocks):
    # block_q6_K: 128 bytes ql, 64 bytes qh, 16 int8 scales, fp16 d
    out = bytearray()
    for _ in range(nblocks):
        out += rng.integers(0, 256, 128 + 64, dtype=np.uint8).tobytes()
        out += rng.integers(-128, 128, 16, dtype=np.int8).tobytes()
        out += half_bytes([rng.uniform(0.001, 0.1)])
    return bytes(out)


def tensor_bytes(rng, qtype, ne):
    """Bytes of a tensor with ggml shape ne (ne[0] innermost)."""
    n = int(np.prod(ne))
    if qtype == QT.F32:
        return rng.standard_normal(n).astype(np.float32).tobytes()
    if qtype == QT.F16:
        return rng.standard_normal(n).astype(np.float16).tobytes()
    if qtype == QT.BF16:
        x = rng.standard_normal(n).astype(np.float32).view(np.uint32)
        return (x >> 16).astype(np.uint16).tobytes()  # truncated bf16: any bits are valid
    if qtype in (QT.Q4_0, QT.Q8_0):
        x = rng.standard_normal(n).astype(np.float32).reshape(-1, ne[0])
        return gguf.quants.quantize(x, qtype).tobytes()
    if qtype == QT.Q4_K:
        return rand_q4_k(rng, n // 256)
    if qtype == QT.Q6_K:
        return rand_q6_k(rng, n // 256)
    raise ValueError(qtype)


def add_tensor(w, rng, rec, name, qtype, ne):
    data = tensor_bytes(rng, qtype, ne)
    np_shape = tuple(reversed(ne))  # numpy order: outermost first
    if qtype == QT.F32:
        arr = np.frombuffer(data, dtype=np.float32).reshape(np_shape)
        w.add_tensor(name, arr)
    elif qtype == QT.F16:
        arr = np.frombuffer(data, dtype=np.float16).reshape(np_shape)
        w.add_tensor(name, arr)
    else:
        # raw bytes: the last numpy dimension counts bytes per row
        bs, ts = gguf.GGML_QUANT_SIZES[qtype]
        byte_shape = np_shape[:-1] + (ne[0] // bs * ts,)
        arr = np.frombuffer(data, dtype=np.uint8).reshape(byte_shape)
        w.add_tensor(name, arr, raw_dtype=qtype)
    rec["tensors"].append({
        "name": name, "type": qtype.name, "type_id": int(qtype), "shape": list(ne),
        "nbytes": len(data), "sha256": hashlib.sha256(data).hexdigest(),
    })


def add_kv(w, rec, key, value, vtype, sub_type=None):
    w.add_key_value(key, value, vtype, sub_type=sub_type)
    if vtype == VT.FLOAT32:
        value = f32(value)
    if sub_type == VT.FLOAT32:
        value = [f32(x) for x in value]
    rec["kvs"].append({
        "key": key, "type": vtype.name, "type_id": int(vtype),
        "elem_type": sub_type.name if sub_type is not None else None,
        "elem_type_id": int(sub_type) if sub_type is not None else None,
        "value": value,
    })


def write(name, arch, alignment, fill):
    path = os.path.join(OUT, name)
    w = gguf.GGUFWriter(path, arch)
    rec = {"file": name, "alignment": alignment or 32, "kvs": [], "tensors": []}
    # GGUFWriter adds general.architecture itself, first.
    rec["kvs"].append({"key": "general.architecture", "type": "STRING", "type_id": int(VT.STRING),
                       "elem_type": None, "elem_type_id": None, "value": arch})
    if alignment:
        w.add_custom_alignment(alignment)
        rec["kvs"].append({"key": "general.alignment", "type": "UINT32", "type_id": int(VT.UINT32),
                           "elem_type": None, "elem_type_id": None, "value": alignment})
    fill(w, rec)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    with open(path, "rb") as fh:
        rec["file_sha256"] = hashlib.sha256(fh.read()).hexdigest()
    return rec


def values(w, rec):
    rng = np.random.default_rng(1)
    add_kv(w, rec, "test.uint8", 255, VT.UINT8)
    add_kv(w, rec, "test.int8", -128, VT.INT8)
    add_kv(w, rec, "test.uint16", 65535, VT.UINT16)
    add_kv(w, rec, "test.int16", -32768, VT.INT16)
    add_kv(w, rec, "test.uint32", 4294967295, VT.UINT32)
    add_kv(w, rec, "test.int32", -2147483648, VT.INT32)
    add_kv(w, rec, "test.float32", 3.14159265, VT.FLOAT32)
    add_kv(w, rec, "test.bool_true", True, VT.BOOL)
    add_kv(w, rec, "test.bool_false", False, VT.BOOL)
    add_kv(w, rec, "test.string", "CogVLM ✓ \"quoted\"\nnewline", VT.STRING)
    add_kv(w, rec, "test.uint64", 18446744073709551615, VT.UINT64)
    add_kv(w, rec, "test.int64", -9223372036854775808, VT.INT64)
    add_kv(w, rec, "test.float64", 2.718281828459045, VT.FLOAT64)
    add_kv(w, rec, "test.arr.uint8", [0, 1, 254, 255], VT.ARRAY, VT.UINT8)
    add_kv(w, rec, "test.arr.int8", [-128, -1, 0, 127], VT.ARRAY, VT.INT8)
    add_kv(w, rec, "test.arr.uint16", [0, 65535], VT.ARRAY, VT.UINT16)
    add_kv(w, rec, "test.arr.int16", [-32768, 32767], VT.ARRAY, VT.INT16)
    add_kv(w, rec, "test.arr.uint32", [0, 7, 4294967295], VT.ARRAY, VT.UINT32)
    add_kv(w, rec, "test.arr.int32", [-2147483648, -1, 2147483647], VT.ARRAY, VT.INT32)
    add_kv(w, rec, "test.arr.float32", [0.1, -2.5, 1e30], VT.ARRAY, VT.FLOAT32)
    add_kv(w, rec, "test.arr.bool", [True, False, True], VT.ARRAY, VT.BOOL)
    add_kv(w, rec, "test.arr.string", ["<unk>", "<s>", "</s>", "▁the", ""], VT.ARRAY, VT.STRING)
    add_kv(w, rec, "test.arr.uint64", [0, 18446744073709551615], VT.ARRAY, VT.UINT64)
    add_kv(w, rec, "test.arr.int64", [-9223372036854775808, 9223372036854775807], VT.ARRAY, VT.INT64)
    add_kv(w, rec, "test.arr.float64", [1e-300, -0.5], VT.ARRAY, VT.FLOAT64)
    tokens = [f"tok{i}" for i in range(300)]
    add_kv(w, rec, "tokenizer.ggml.tokens", tokens, VT.ARRAY, VT.STRING)
    add_kv(w, rec, "tokenizer.ggml.scores", [-float(i) for i in range(300)], VT.ARRAY, VT.FLOAT32)
    add_kv(w, rec, "tokenizer.ggml.token_type", [1] * 300, VT.ARRAY, VT.INT32)
    add_tensor(w, rng, rec, "token_embd.weight", QT.F32, [8, 4])


def tensors(w, rec, seed):
    rng = np.random.default_rng(seed)
    add_kv(w, rec, "general.quantization_version", 2, VT.UINT32)
    add_tensor(w, rng, rec, "f32.1d", QT.F32, [5])
    add_tensor(w, rng, rec, "f32.4d", QT.F32, [3, 2, 2, 2])
    add_tensor(w, rng, rec, "f16.2d", QT.F16, [7, 3])
    add_tensor(w, rng, rec, "f16.3d", QT.F16, [4, 2, 3])
    add_tensor(w, rng, rec, "bf16.1d", QT.BF16, [9])
    add_tensor(w, rng, rec, "bf16.2d", QT.BF16, [6, 2])
    add_tensor(w, rng, rec, "q4_0.1d", QT.Q4_0, [64])
    add_tensor(w, rng, rec, "q4_0.3d", QT.Q4_0, [32, 2, 2])
    add_tensor(w, rng, rec, "q8_0.2d", QT.Q8_0, [64, 3])
    add_tensor(w, rng, rec, "q8_0.4d", QT.Q8_0, [32, 2, 1, 2])
    add_tensor(w, rng, rec, "q4_k.2d", QT.Q4_K, [256, 2])
    add_tensor(w, rng, rec, "q4_k.3d", QT.Q4_K, [512, 1, 2])
    add_tensor(w, rng, rec, "q6_k.1d", QT.Q6_K, [256])
    add_tensor(w, rng, rec, "q6_k.4d", QT.Q6_K, [256, 2, 1, 1])


def main():
    os.makedirs(OUT, exist_ok=True)
    recs = [
        write("ggufpy-values.gguf", "llama", 0, values),
        write("ggufpy-tensors-a32.gguf", "cogvlm", 0, lambda w, r: tensors(w, r, 2)),
        write("ggufpy-tensors-a64.gguf", "cogvlm", 64, lambda w, r: tensors(w, r, 3)),
        write("ggufpy-tensors-a8.gguf", "clip", 8, lambda w, r: tensors(w, r, 4)),
    ]
    with open(os.path.join(OUT, "ggufpy.json"), "w") as fh:
        json.dump({"generator": "gen_ggufpy.py with llama.cpp gguf-py", "files": recs}, fh, indent=1, ensure_ascii=False)
        fh.write("\n")


main()
