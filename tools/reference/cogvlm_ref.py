#!/usr/bin/python3
"""Numerical reference for CogVLM-17B (THUDM/cogvlm-chat-hf remote code).

Everything is computed in float32 from the values stored in the checkpoint (BF16/F16/F32
safetensors, read by the small reader below).  This file is a fresh re-expression of the
math of the Hugging Face remote code (`visual.py`, `modeling_cogvlm.py`); it does not import
or copy it.  See ../../docs/cogvlm.md for the model and README.md for the checks.

Pipeline (one image at most, batch size 1):
  image --preprocess--> pixels [3,S,S]
        --EVA2-CLIP ViT--> [P+1,Hv] --drop CLS--> [P,Hv]
        --GLU adapter--> [P,H] --boi/eoi--> [P+2,H]
  ids   = [BOS] + [pad]*(P+2) + text_ids          types = [L] + [V]*(P+2) + [L]*n
  embed = embed_tokens(ids) with the V rows replaced by the image rows (in order)
  pos   = build_position_ids(types)               vision-expert mask = V(t) and V(t+1)
  decoder x N (shared RMSNorms, per-token expert for QKV/dense/MLP, RoPE, causal attention)
  final RMSNorm -> lm_head -> logits
"""
import json
import math
import os
import struct

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

LANG, VISION = 0, 1
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
ROPE_BASE = 10000.0
ADAPTER_LN_EPS = 1e-5  # nn.LayerNorm(hidden) default; NOT the vision config eps

torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))


# ----------------------------------------------------------------------------------------
# safetensors (own reader / writer; no safetensors library)
# ----------------------------------------------------------------------------------------
ST_ITEMSIZE = {"BF16": 2, "F16": 2, "F32": 4}


def st_encode(t, dtype):
    """fp32 torch tensor -> little-endian raw bytes in `dtype` (round to nearest even)."""
    t = t.detach().contiguous()
    if dtype == "BF16":
        return t.to(torch.bfloat16).view(torch.int16).numpy().astype("<i2").tobytes()
    if dtype == "F16":
        return t.to(torch.float16).numpy().astype("<f2").tobytes()
    if dtype == "F32":
        return t.to(torch.float32).numpy().astype("<f4").tobytes()
    raise ValueError(dtype)


def st_decode(raw, dtype, shape):
    """raw little-endian bytes -> fp32 numpy array (bf16 is widened exactly: bits << 16)."""
    if dtype == "BF16":
        u = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
        a = u.view(np.float32)
    elif dtype == "F16":
        a = np.frombuffer(raw, dtype="<f2").astype(np.float32)
    elif dtype == "F32":
        a = np.frombuffer(raw, dtype="<f4").astype(np.float32)
    else:
        raise ValueError("unsupported dtype " + dtype)
    return a.reshape(shape)


def st_write(path, tensors, dtype="BF16", metadata=None):
    """Write {name: fp32 tensor} as one safetensors file. Returns total data bytes."""
    header = {"__metadata__": dict(metadata or {"format": "pt"})}
    blobs, off = [], 0
    for name in sorted(tensors):
        raw = st_encode(tensors[name], dtype)
        header[name] = {"dtype": dtype, "shape": list(tensors[name].shape),
                        "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    hj = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hj += b" " * ((8 - len(hj) % 8) % 8)  # pad header to 8 bytes with spaces
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hj)))
        f.write(hj)
        for raw in blobs:
            f.write(raw)
    return off


def st_read(path):
    """Read one safetensors file -> ({name: fp32 numpy}, {name: dtype}, metadata)."""
    with open(path, "rb") as f:
        buf = f.read()
    (n,) = struct.unpack("<Q", buf[:8])
    header = json.loads(buf[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", None)
    base = 8 + n
    out, dtypes = {}, {}
    for name, info in header.items():
        a, b = info["data_offsets"]
        dt = info["dtype"]
        shape = info["shape"]
        if b - a != ST_ITEMSIZE[dt] * int(np.prod(shape, dtype=np.int64)):
            raise ValueError(f"{path}: bad size for {name}")
        out[name] = st_decode(buf[base + a: base + b], dt, shape)
        dtypes[name] = dt
    return out, dtypes, meta


def load_checkpoint(folder):
    """Load config.json + sharded (or single) safetensors -> (config dict, {name: fp32 torch})."""
    with open(os.path.join(folder, "config.json")) as f:
        cfg = json.load(f)
    idx = os.path.join(folder, "model.safetensors.index.json")
    if os.path.exists(idx):
        with open(idx) as f:
            wm = json.load(f)["weight_map"]
        files = sorted(set(wm.values()))
    else:
        wm, files = None, ["model.safetensors"]
    W = {}
    for fn in files:
        arrs, _, _ = st_read(os.path.join(folder, fn))
        for k, v in arrs.items():
            if wm is not None and wm.get(k) != fn:
                raise ValueError(f"{k} found in {fn} but index says {wm.get(k)}")
            W[k] = torch.from_numpy(v.copy())
    if wm is not None:
        missing = set(wm) - set(W)
        if missing:
            raise ValueError(f"tensors in index but not in shards: {sorted(missing)[:5]}")
    return cfg, W


# ----------------------------------------------------------------------------------------
# prompt templates (HF _history_to_prompt) and input building
# ----------------------------------------------------------------------------------------
def history_to_prompt(template, history, query):
    """Prompt text for `template` in {'base','chat','vqa'} (history: list of (q, a))."""
    if template == "base":
        return query
    if template == "chat":
        tag = "Answer:"
    elif template == "vqa":
        tag = "Short answer:"
    else:
        raise ValueError("unknown template " + str(template))
    s = "".join("Question: " + q + " " + tag + " " + a + "\n" for q, a in (history or []))
    return s + "Question: " + query + " " + tag


def num_vision_tokens(vcfg):
    g = vcfg["image_size"] // vcfg["patch_size"]
    return g * g + 2


def build_input_ids(text_ids, n_vision, bos_id=1, pad_id=0):
    """[BOS] + [pad]*n_vision + text_ids and the matching token types (n_vision=0: no image)."""
    ids = [bos_id] + [pad_id] * n_vision + list(text_ids)
    types = [LANG] + [VISION] * n_vision + [LANG] * len(text_ids)
    return ids, types


def build_position_ids(types, attention_mask=None):
    """HF build_position_ids for one sequence (1-D). Padding (mask 0) is typed -1.

    1. a VISION token at the start or end of a VISION run (boi / eoi) is relabelled LANG;
    2. pos[0] = 0; a later token adds 1 if it is LANG, or if it is VISION and the
       (relabelled) token before it is LANG; otherwise (inner patches) it adds 0;
    3. cumulative sum.
    """
    t = np.asarray(types, dtype=np.int64).copy()
    if attention_mask is not None:
        t[np.asarray(attention_mask) == 0] = -1
    n = len(t)
    edge = np.zeros(n, dtype=bool)
    if n > 1:
        edge[1:] |= (t[1:] == VISION) & (t[:-1] == LANG)
        edge[:-1] |= (t[:-1] == VISION) & (t[1:] == LANG)
    edge[0] |= t[0] == VISION
    edge[-1] |= t[-1] == VISION
    t[edge] = LANG
    inc = np.zeros(n, dtype=np.int64)
    if n > 1:
        inc[1:] = (t[1:] == LANG) | ((t[1:] == VISION) & (t[:-1] == LANG))
    return np.cumsum(inc)


def vision_expert_mask(types):
    """HF get_expert_mask: token t uses the vision expert iff type[t]==V and type[t+1]==V.

    The mask is computed over the tokens of one forward call only; the last one is always
    language (so eoi, and every single-token decode step, use the language expert)."""
    t = np.asarray(types, dtype=np.int64)
    m = np.zeros(len(t), dtype=bool)
    if len(t) > 1:
        m[:-1] = (t[:-1] == VISION) & (t[1:] == VISION)
    return m


# ----------------------------------------------------------------------------------------
# image preprocessing
# ----------------------------------------------------------------------------------------
def preprocess_float_resize(image, size):
    """Sensitivity test only: antialiased bicubic on float pixels (no uint8 rounding of the
    resized image) instead of Pillow's fixed-point resampler."""
    img = Image.open(image) if isinstance(image, (str, os.PathLike)) else image
    x = torch.from_numpy(np.asarray(img.convert("RGB"), dtype=np.uint8).copy())
    x = x.permute(2, 0, 1)[None].to(torch.float32).div(255.0)
    x = F.interpolate(x, size=(size, size), mode="bicubic", align_corners=False, antialias=True)[0]
    x = x.clamp(0, 1)
    mean = torch.tensor(CLIP_MEAN, dtype=torch.float32).view(3, 1, 1)
    std = torch.tensor(CLIP_STD, dtype=torch.float32).view(3, 1, 1)
    u8 = (x * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()
    return u8, (x - mean) / std


def preprocess(image, size):
    """PIL path/image -> (resized uint8 [S,S,3], pixels fp32 [3,S,S]).

    convert('RGB'); Image.resize((S,S), BICUBIC) (squash, no crop); /255 in fp32;
    (x - mean) / std in fp32 with the OpenAI CLIP constants (torchvision ToTensor+Normalize)."""
    img = Image.open(image) if isinstance(image, (str, os.PathLike)) else image
    img = img.convert("RGB")
    bicubic = getattr(Image, "Resampling", Image).BICUBIC
    img = img.resize((size, size), bicubic)
    u8 = np.asarray(img, dtype=np.uint8).copy()  # [S,S,3]
    x = torch.from_numpy(u8).permute(2, 0, 1).contiguous().to(torch.float32).div(255.0)
    mean = torch.tensor(CLIP_MEAN, dtype=torch.float32).view(3, 1, 1)
    std = torch.tensor(CLIP_STD, dtype=torch.float32).view(3, 1, 1)
    return u8, (x - mean) / std


# ----------------------------------------------------------------------------------------
# vision tower (EVA2-CLIP, post-sublayer LayerNorms) + GLU adapter
# ----------------------------------------------------------------------------------------
def gelu_erf(x):
    return F.gelu(x)  # exact erf form (ACT2FN["gelu"] / nn.GELU())


def vit_forward(W, vcfg, pixels, collect=False, opts=None):
    """pixels [3,S,S] -> ViT output without CLS [P,Hv] (and per-layer states if collect).

    opts (for sensitivity tests only): cls_last, gelu_tanh, vit_qkv_heads_first."""
    opts = opts or {}
    p = "model.vision."
    S, ps = vcfg["image_size"], vcfg["patch_size"]
    Hv, nh = vcfg["hidden_size"], vcfg["num_heads"]
    hd = Hv // nh
    eps = vcfg["layer_norm_eps"]
    g = S // ps
    assert pixels.shape == (3, S, S) and g * ps == S
    # patch embedding: Conv2d(k=ps, s=ps) == matmul over (c, ky, kx)-flattened patches,
    # patches in raster order (row y, then column x)
    patches = pixels.view(3, g, ps, g, ps).permute(1, 3, 0, 2, 4).reshape(g * g, 3 * ps * ps)
    wc = W[p + "patch_embedding.proj.weight"].reshape(Hv, 3 * ps * ps)
    x = patches @ wc.t() + W[p + "patch_embedding.proj.bias"]
    cls = W[p + "patch_embedding.cls_embedding"].reshape(1, Hv)
    x = torch.cat([x, cls], 0) if opts.get("cls_last") else torch.cat([cls, x], 0)
    x = x + W[p + "patch_embedding.position_embedding.weight"]  # all P+1 rows, row 0 = CLS
    act = (lambda z: F.gelu(z, approximate="tanh")) if opts.get("gelu_tanh") else gelu_erf
    states = [x] if collect else None
    T = x.shape[0]
    for i in range(vcfg["num_hidden_layers"]):
        q = f"{p}transformer.layers.{i}."
        qkv = x @ W[q + "attention.query_key_value.weight"].t() + W[q + "attention.query_key_value.bias"]
        if opts.get("vit_qkv_heads_first"):                # wrong layout (heads, 3, head_dim)
            qkv = qkv.view(T, nh, 3, hd).transpose(1, 2)
        else:
            qkv = qkv.view(T, 3, nh, hd)                  # features split as (3, heads, head_dim)
        qh, kh, vh = (qkv[:, j].transpose(0, 1) for j in range(3))  # [nh,T,hd]
        s = (qh * (hd ** -0.5)) @ kh.transpose(1, 2)       # no mask (bidirectional)
        a = torch.softmax(s, dim=-1) @ vh
        a = a.transpose(0, 1).reshape(T, Hv)
        a = a @ W[q + "attention.dense.weight"].t() + W[q + "attention.dense.bias"]
        x = x + F.layer_norm(a, (Hv,), W[q + "input_layernorm.weight"], W[q + "input_layernorm.bias"], eps)
        m = act(x @ W[q + "mlp.fc1.weight"].t() + W[q + "mlp.fc1.bias"])
        m = m @ W[q + "mlp.fc2.weight"].t() + W[q + "mlp.fc2.bias"]
        x = x + F.layer_norm(m, (Hv,), W[q + "post_attention_layernorm.weight"],
                             W[q + "post_attention_layernorm.bias"], eps)
        if collect:
            states.append(x)
    out = x[:-1] if opts.get("cls_last") else x[1:]
    return (out, torch.stack(states)) if collect else out


def adapter_forward(W, cfg, feats, opts=None):
    """[P,Hv] -> [P+2,H]: GLU (linear_proj, LN eps 1e-5, GELU, SwiGLU) then boi/eoi."""
    opts = opts or {}
    p = "model.vision."
    H = cfg["hidden_size"]
    h = feats @ W[p + "linear_proj.linear_proj.weight"].t()
    h = F.layer_norm(h, (H,), W[p + "linear_proj.norm1.weight"], W[p + "linear_proj.norm1.bias"],
                     opts.get("adapter_ln_eps", ADAPTER_LN_EPS))
    h = F.gelu(h, approximate="tanh") if opts.get("gelu_tanh") else gelu_erf(h)
    gate = F.silu(h @ W[p + "linear_proj.gate_proj.weight"].t())
    up = h @ W[p + "linear_proj.dense_h_to_4h.weight"].t()
    h = (gate * up) @ W[p + "linear_proj.dense_4h_to_h.weight"].t()
    return torch.cat([W[p + "boi"].reshape(1, H), h, W[p + "eoi"].reshape(1, H)], 0)


# ----------------------------------------------------------------------------------------
# language model with visual experts
# ----------------------------------------------------------------------------------------
def rms_norm(x, w, eps):
    x32 = x.to(torch.float32) if x.dtype in (torch.float16, torch.bfloat16) else x
    var = x32.pow(2).mean(-1, keepdim=True)
    return w * (x32 * torch.rsqrt(var + eps))  # weight multiplied before any cast back


def rope_cos_sin(positions, head_dim, dtype=torch.float32):
    """NeoX rotate-half tables (fp32 by default): inv_freq[i] = 1/10000^(2i/d), angle = pos*inv_freq."""
    inv_freq = 1.0 / (ROPE_BASE ** (torch.arange(0, head_dim, 2, dtype=dtype) / head_dim))
    ang = torch.as_tensor(np.asarray(positions), dtype=dtype)[:, None] * inv_freq[None, :]
    emb = torch.cat([ang, ang], dim=-1)  # [T, d]
    return emb.cos(), emb.sin()


def rotate_interleaved(x):  # GPT-J layout; used only by the sensitivity tests
    return torch.stack([-x[..., 1::2], x[..., 0::2]], dim=-1).flatten(-2)


def rotate_half(x):
    d = x.shape[-1] // 2
    return torch.cat([-x[..., d:], x[..., :d]], dim=-1)


def expert_linear(x, vmask, w_vision, w_language):
    out = x.new_empty(x.shape[0], w_language.shape[0])
    vm = torch.as_tensor(vmask, dtype=torch.bool)
    if vm.any():
        out[vm] = x[vm] @ w_vision.t()
    if (~vm).any():
        out[~vm] = x[~vm] @ w_language.t()
    return out


def llm_forward(W, cfg, embeds, vmask, positions, cache=None, collect=False, opts=None):
    """One forward call over T new tokens (computed in embeds.dtype, fp32 normally).

    embeds [T,H]; vmask [T] bool (vision expert); positions [T] (RoPE ids);
    cache: list per layer of (K [nh,Tpast,hd] post-RoPE, V [nh,Tpast,hd]) or None.
    Returns dict(hidden=[T,H] after final norm, logits=[T,V], cache=new cache,
                 layers=[N+1,T,H] residual stream entering each layer + after the last).
    opts (sensitivity tests only): rope_interleaved, rms_eps."""
    opts = opts or {}
    H, nh = cfg["hidden_size"], cfg["num_attention_heads"]
    hd = H // nh
    eps = opts.get("rms_eps", cfg["rms_norm_eps"])
    x = embeds
    dt = x.dtype
    T = x.shape[0]
    cos, sin = rope_cos_sin(positions, hd, dtype=dt)  # [T,hd]
    rot = rotate_half
    if opts.get("rope_interleaved"):
        cos = cos[:, : hd // 2].repeat_interleave(2, dim=-1)
        sin = sin[:, : hd // 2].repeat_interleave(2, dim=-1)
        rot = rotate_interleaved
    past = 0 if not cache else cache[0][0].shape[1]
    # causal over the sequence index: new token i (absolute past+i) sees keys 0..past+i
    qi = torch.arange(T)[:, None] + past
    kj = torch.arange(past + T)[None, :]
    neg = torch.zeros(T, past + T, dtype=dt)
    neg[kj > qi] = float("-inf")
    vm = torch.as_tensor(np.asarray(vmask), dtype=torch.bool)
    states = [x] if collect else None
    new_cache = []
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        h = rms_norm(x, W[p + "input_layernorm.weight"], eps)
        qkv = expert_linear(h, vm, W[p + "self_attn.vision_expert_query_key_value.weight"],
                            W[p + "self_attn.language_expert_query_key_value.weight"])
        # rows of the fused QKV: [Q | K | V], each head-major (head h = dims h*hd .. h*hd+hd-1)
        q, k, v = (t.reshape(T, nh, hd).transpose(0, 1) for t in torch.split(qkv, H, dim=-1))
        q = q * cos + rot(q) * sin
        k = k * cos + rot(k) * sin
        if cache:
            k = torch.cat([cache[i][0], k], dim=1)
            v = torch.cat([cache[i][1], v], dim=1)
        new_cache.append((k, v))
        s = (q / math.sqrt(hd)) @ k.transpose(1, 2) + neg
        a = torch.softmax(s, dim=-1) @ v                      # [nh,T,hd]
        a = a.transpose(0, 1).reshape(T, H)
        o = expert_linear(a, vm, W[p + "self_attn.vision_expert_dense.weight"],
                          W[p + "self_attn.language_expert_dense.weight"])
        x = x + o
        h = rms_norm(x, W[p + "post_attention_layernorm.weight"], eps)
        m = x.new_empty(T, H)
        for sel, name in ((vm, "vision_mlp"), (~vm, "language_mlp")):
            if sel.any():
                hs = h[sel]
                g = F.silu(hs @ W[p + f"mlp.{name}.gate_proj.weight"].t())
                u = hs @ W[p + f"mlp.{name}.up_proj.weight"].t()
                m[sel] = (g * u) @ W[p + f"mlp.{name}.down_proj.weight"].t()
        x = x + m
        if collect:
            states.append(x)
    hidden = rms_norm(x, W["model.norm.weight"], eps)
    logits = hidden @ W["lm_head.weight"].t()
    out = {"hidden": hidden, "logits": logits, "cache": new_cache}
    if collect:
        out["layers"] = torch.stack(states)
    return out


# ----------------------------------------------------------------------------------------
# full model
# ----------------------------------------------------------------------------------------
class CogVLMRef:
    """The whole model. dtype: compute dtype (float32 = the oracle; float64 = noise-floor check).
    opts: test-only deviations from HF used by selfcheck.py's sensitivity tests."""

    def __init__(self, folder, dtype=torch.float32, weights=None):
        self.folder = folder
        self.dtype = dtype
        if weights is None:
            self.cfg, W = load_checkpoint(folder)
        else:
            self.cfg, W = weights
        self.W = {k: v.to(dtype) for k, v in W.items()}
        self.vcfg = self.cfg["vision_config"]

    # --- image side ---
    def encode_image(self, image, collect=False, opts=None):
        opts = opts or {}
        pre = preprocess_float_resize if opts.get("float_resize") else preprocess
        u8, pixels = pre(image, self.vcfg["image_size"])
        r = vit_forward(self.W, self.vcfg, pixels.to(self.dtype), collect=collect, opts=opts)
        vit, vit_states = r if collect else (r, None)
        img = adapter_forward(self.W, self.cfg, vit, opts=opts)
        return {"resized_u8": u8, "pixels": pixels, "vit": vit, "vit_states": vit_states,
                "image_embeds": img}

    # --- prompt side ---
    def prepare(self, text_ids, image=None, collect=False, opts=None):
        """Everything a prefill needs. text_ids = tokenizer.encode(prompt, add_special_tokens=False)."""
        opts = opts or {}
        n_vis = num_vision_tokens(self.vcfg) if image is not None else 0
        ids, types = build_input_ids(text_ids, n_vis, self.cfg.get("bos_token_id", 1),
                                     self.cfg.get("pad_token_id", 0))
        d = {"input_ids": np.asarray(ids, np.int64), "token_type_ids": np.asarray(types, np.int64),
             "opts": opts}
        emb = self.W["model.embed_tokens.weight"][torch.as_tensor(ids)].clone()
        if image is not None:
            d.update(self.encode_image(image, collect=collect, opts=opts))
            vt = torch.as_tensor(types) == VISION
            emb[vt] = d["image_embeds"]  # vision rows in order (index_put)
        d["inputs_embeds"] = emb
        d["position_ids"] = (np.arange(len(ids)) if opts.get("sequential_positions")
                             else build_position_ids(types))
        vm = vision_expert_mask(types)
        if opts.get("eoi_vision_expert"):  # llama.cpp-style: every image row incl. eoi -> vision
            vm = np.asarray(types) == VISION
        d["vision_expert_mask"] = vm
        return d

    def forward(self, d, collect=False):
        return llm_forward(self.W, self.cfg, d["inputs_embeds"], d["vision_expert_mask"],
                           d["position_ids"], cache=None, collect=collect, opts=d.get("opts"))

    def step(self, token_ids, types_so_far, cache, opts=None):
        """Incremental forward of new LANG tokens given the cache; returns (out, new types)."""
        types = list(types_so_far) + [LANG] * len(token_ids)
        pos = build_position_ids(types)[-len(token_ids):]
        emb = self.W["model.embed_tokens.weight"][torch.as_tensor(list(token_ids))]
        r = llm_forward(self.W, self.cfg, emb, vision_expert_mask([LANG] * len(token_ids)), pos,
                        cache=cache, opts=opts)
        return r, types, pos

    def generate(self, d, n_new=16, prefill=None):
        """Greedy decoding with the KV cache. New tokens are LANG, position = HF rule (last+1).

        Returns (tokens [n_new], step_logits [n_new,V], positions [n_new]): step_logits[i] chose
        tokens[i] (row 0 = last prefill position, rows 1.. = one-token incremental steps);
        positions[i] is the RoPE position tokens[i] gets when it is fed back."""
        out = prefill if prefill is not None else self.forward(d)
        cache = out["cache"]
        types = list(d["token_type_ids"])
        logits = out["logits"][-1]
        toks, rows, poss = [], [], []
        for step in range(n_new):
            tok = int(torch.argmax(logits))  # lowest index on ties
            toks.append(tok)
            rows.append(logits.clone())
            poss.append(int(build_position_ids(types + [LANG])[-1]))
            if step == n_new - 1:
                break
            r, types, _ = self.step([tok], types, cache, opts=d.get("opts"))
            cache = r["cache"]
            logits = r["logits"][-1]
        return np.asarray(toks, np.int64), torch.stack(rows), np.asarray(poss, np.int64)
