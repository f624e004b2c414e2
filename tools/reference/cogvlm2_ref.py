#!/usr/bin/python3
"""Numerical reference for CogVLM2 (THUDM/cogvlm2-llama3-chat-19B remote code).

Same conventions as cogvlm_ref.py (fp32 from the stored BF16/F16/F32 values, batch 1, at most one
image); the shared pieces (safetensors reader, Pillow preprocessing, EVA2-CLIP ViT, GLU adapter,
build_position_ids, expert mask, RMSNorm, rotate-half) are imported from cogvlm_ref.py unchanged.
This file is a fresh re-expression of the CogVLM2 HF remote code (modeling_cogvlm.py, visual.py,
util.py, configuration_cogvlm.py); it does not import or copy it. ../../docs/cogvlm.md (section CogVLM2)
lists the sources.

What CogVLM2 changes (everything else is CogVLM-1):
  image --preprocess(S=1344)--> --ViT--> [P+1,Hv] --drop CLS--> [P,Hv] (P = g*g, g = S/p)
        --Conv2d(Hv->Hv, k=2, s=2, bias) on the g x g grid--> [(g//2)^2, Hv] (raster order)
        --GLU adapter--> --boi/eoi--> [(g//2)^2 + 2, H]
  ids   = [BOS=128000] + [128002]*((g//2)^2 + 2) + text_ids
  decoder: grouped-query attention (num_multi_query_heads KV heads, default 8), fused QKV rows
           [Q (nh*hd) | K (nkv*hd) | V (nkv*hd)], the VISION expert QKV has a bias, the language
           expert QKV and both dense layers have none; query head h uses KV head h // (nh/nkv);
           rotate-half RoPE with base 500000, inv_freq taken from the checkpoint buffer
           model.layers.N.self_attn.rotary_emb.inv_freq when present (the published checkpoint
           has it, in BF16), positions in fp32.
"""
import json
import math
import os

import numpy as np
import torch
import torch.nn.functional as F

import cogvlm_ref as v1

LANG, VISION = v1.LANG, v1.VISION
ROPE_BASE = 500000.0          # hard-coded in VisionExpertAttention (FastRotaryEmbedding(base=500000))
DEFAULT_KV_HEADS = 8          # CogVLMConfig default; the published config.json has no such key
IMAGE_PAD_ID = 128002         # build_conversation_input_ids sets tokenizer.pad_token_id = 128002
BOS_ID = 128000               # <|begin_of_text|>
EOS_IDS = (128001, 128009)    # generation_config: <|end_of_text|>, <|eot_id|>
CONV_KEY = "model.vision.conv.weight"


def inv_freq_key(i):
    return f"model.layers.{i}.self_attn.rotary_emb.inv_freq"


def is_cogvlm2(weight_names):
    """A CogVLM2 checkpoint is recognised by its tensors (the config.json keys are CogVLM-1's)."""
    return CONV_KEY in weight_names


def kv_heads(cfg):
    return int(cfg.get("num_multi_query_heads", DEFAULT_KV_HEADS))


def rope_inv_freq_formula(head_dim, base=ROPE_BASE, dtype=torch.float32):
    """1 / base^(2i/d), i = 0..d/2-1, computed in `dtype` (the HF _compute_inv_freq in fp32)."""
    return 1.0 / (base ** (torch.arange(0, head_dim, 2, dtype=torch.int64).to(dtype) / head_dim))


def num_vision_tokens(vcfg):
    """(S // p // 2)^2 + 2 (boi + downsampled patches + eoi)."""
    g2 = vcfg["image_size"] // vcfg["patch_size"] // 2
    return g2 * g2 + 2


# ----------------------------------------------------------------------------------------
# vision: stride-2 conv downsample between the ViT and the GLU adapter
# ----------------------------------------------------------------------------------------
def conv_downsample(W, vcfg, feats, opts=None):
    """ViT output without CLS [P,Hv] (raster order over a g x g grid) -> [(g//2)^2, Hv].

    Conv2d(Hv, Hv, kernel 2, stride 2, bias) on the [Hv, g, g] image of the patch features:
    out[R*G+C, o] = b[o] + sum_{i,ky,kx} w[o,i,ky,kx] * feat[(2R+ky)*g + 2C+kx, i], G = g//2;
    an odd last row/column is dropped (floor), as the conv does.
    opts (sensitivity tests only): conv_transposed (grid read column-major)."""
    opts = opts or {}
    Hv = vcfg["hidden_size"]
    P = feats.shape[0]
    g = int(math.isqrt(P))
    assert g * g == P, "the patch count must be a square"
    G = g // 2
    x = feats.reshape(g, g, Hv)                     # [row, col, ch]
    if opts.get("conv_transposed"):
        x = x.transpose(0, 1)
    x = x[: 2 * G, : 2 * G]                           # floor for an odd grid
    # blocks: [R, ky, C, kx, ch] -> [R, C, ch, ky, kx] -> rows (R, C), features (ch, ky, kx)
    blocks = x.reshape(G, 2, G, 2, Hv).permute(0, 2, 4, 1, 3).reshape(G * G, Hv * 4)
    w = W["model.vision.conv.weight"].reshape(Hv, Hv * 4)
    out = blocks @ w.t()
    if not opts.get("no_conv_bias"):
        out = out + W["model.vision.conv.bias"]
    return out


# ----------------------------------------------------------------------------------------
# language model: Llama-3 with visual experts and grouped-query attention
# ----------------------------------------------------------------------------------------
def expert_linear_bias(x, vmask, w_vision, b_vision, w_language):
    """Per-token expert projection; only the vision expert has a bias (b_vision may be None)."""
    out = x.new_empty(x.shape[0], w_language.shape[0])
    vm = torch.as_tensor(np.asarray(vmask), dtype=torch.bool)
    if vm.any():
        y = x[vm] @ w_vision.t()
        out[vm] = y + b_vision if b_vision is not None else y
    if (~vm).any():
        out[~vm] = x[~vm] @ w_language.t()
    return out


def layer_inv_freq(W, i, head_dim, dtype, opts):
    """inv_freq used by layer i: the checkpoint buffer when present (HF loads the persistent
    buffer, so its stored, BF16-rounded values are what the HF model multiplies with), else the
    fp32 formula with base 500000."""
    if opts.get("rope_base") is not None:
        return rope_inv_freq_formula(head_dim, opts["rope_base"], dtype)
    if inv_freq_key(i) in W and not opts.get("rope_inv_freq_computed"):
        return W[inv_freq_key(i)].to(dtype)
    return rope_inv_freq_formula(head_dim, ROPE_BASE, dtype)


def llm_forward(W, cfg, embeds, vmask, positions, cache=None, collect=False, opts=None):
    """One forward call over T new tokens (computed in embeds.dtype).

    embeds [T,H]; vmask [T] (vision expert); positions [T] (RoPE ids);
    cache: per layer (K [nkv,Tpast,hd] after RoPE, V [nkv,Tpast,hd]) or None.
    Returns dict(hidden, logits, cache, layers) like cogvlm_ref.llm_forward.
    opts (sensitivity tests only): gqa_tile, no_vision_qkv_bias, rope_base, rope_inv_freq_computed,
    rope_interleaved, rms_eps."""
    opts = opts or {}
    H, nh = cfg["hidden_size"], cfg["num_attention_heads"]
    nkv = kv_heads(cfg)
    hd = H // nh
    assert nh % nkv == 0
    group = nh // nkv
    eps = opts.get("rms_eps", cfg["rms_norm_eps"])
    x = embeds
    dt = x.dtype
    T = x.shape[0]
    pos = torch.as_tensor(np.asarray(positions), dtype=torch.int64).to(dt)  # fp32 positions
    past = 0 if not cache else cache[0][0].shape[1]
    qi = torch.arange(T)[:, None] + past
    kj = torch.arange(past + T)[None, :]
    neg = torch.zeros(T, past + T, dtype=dt)
    neg[kj > qi] = float("-inf")                     # causal over the whole sequence
    vm = torch.as_tensor(np.asarray(vmask), dtype=torch.bool)
    states = [x] if collect else None
    new_cache = []
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        inv = layer_inv_freq(W, i, hd, dt, opts)
        ang = pos[:, None] * inv[None, :]
        emb = torch.cat([ang, ang], dim=-1)
        cos, sin = emb.cos(), emb.sin()
        rot = v1.rotate_half
        if opts.get("rope_interleaved"):
            cos = cos[:, : hd // 2].repeat_interleave(2, dim=-1)
            sin = sin[:, : hd // 2].repeat_interleave(2, dim=-1)
            rot = v1.rotate_interleaved
        h = v1.rms_norm(x, W[p + "input_layernorm.weight"], eps)
        bias = None if opts.get("no_vision_qkv_bias") else W[p + "self_attn.vision_expert_query_key_value.bias"]
        qkv = expert_linear_bias(h, vm, W[p + "self_attn.vision_expert_query_key_value.weight"], bias,
                                 W[p + "self_attn.language_expert_query_key_value.weight"])
        q, k, v = torch.split(qkv, [nh * hd, nkv * hd, nkv * hd], dim=-1)
        q = q.reshape(T, nh, hd).transpose(0, 1)      # head-major within each block
        k = k.reshape(T, nkv, hd).transpose(0, 1)
        v = v.reshape(T, nkv, hd).transpose(0, 1)
        q = q * cos + rot(q) * sin
        k = k * cos + rot(k) * sin
        if cache:
            k = torch.cat([cache[i][0], k], dim=1)
            v = torch.cat([cache[i][1], v], dim=1)
        new_cache.append((k, v))                      # cached with nkv heads, K after RoPE
        if opts.get("gqa_tile"):                      # wrong: head h -> kv head h % nkv
            kx, vx = k.repeat(group, 1, 1), v.repeat(group, 1, 1)
        else:                                         # HF: head h -> kv head h // group
            kx, vx = k.repeat_interleave(group, dim=0), v.repeat_interleave(group, dim=0)
        s = (q / math.sqrt(hd)) @ kx.transpose(1, 2) + neg
        a = torch.softmax(s, dim=-1) @ vx             # [nh,T,hd]
        a = a.transpose(0, 1).reshape(T, H)
        o = v1.expert_linear(a, vm, W[p + "self_attn.vision_expert_dense.weight"],
                             W[p + "self_attn.language_expert_dense.weight"])
        x = x + o
        h = v1.rms_norm(x, W[p + "post_attention_layernorm.weight"], eps)
        m = x.new_empty(T, H)
        for sel, name in ((vm, "vision_mlp"), (~vm, "language_mlp")):
            if sel.any():
                hs = h[sel]
                g_ = F.silu(hs @ W[p + f"mlp.{name}.gate_proj.weight"].t())
                u = hs @ W[p + f"mlp.{name}.up_proj.weight"].t()
                m[sel] = (g_ * u) @ W[p + f"mlp.{name}.down_proj.weight"].t()
        x = x + m
        if collect:
            states.append(x)
    hidden = v1.rms_norm(x, W["model.norm.weight"], eps)
    logits = hidden @ W["lm_head.weight"].t()
    out = {"hidden": hidden, "logits": logits, "cache": new_cache}
    if collect:
        out["layers"] = torch.stack(states)
    return out


# ----------------------------------------------------------------------------------------
# full model (same interface as cogvlm_ref.CogVLMRef, so golden.py / selfcheck.py use both)
# ----------------------------------------------------------------------------------------
class CogVLM2Ref(v1.CogVLMRef):
    family = "cogvlm2"

    def encode_image(self, image, collect=False, opts=None):
        opts = opts or {}
        pre = v1.preprocess_float_resize if opts.get("float_resize") else v1.preprocess
        u8, pixels = pre(image, self.vcfg["image_size"])
        r = v1.vit_forward(self.W, self.vcfg, pixels.to(self.dtype), collect=collect, opts=opts)
        vit, vit_states = r if collect else (r, None)
        conv = conv_downsample(self.W, self.vcfg, vit, opts=opts)
        img = v1.adapter_forward(self.W, self.cfg, conv, opts=opts)
        return {"resized_u8": u8, "pixels": pixels, "vit": vit, "vit_states": vit_states,
                "conv": conv, "image_embeds": img}

    def prepare(self, text_ids, image=None, collect=False, opts=None):
        """[BOS] + [128002]*((S/p/2)^2+2) + text_ids (text_ids = encode(prompt, no specials))."""
        opts = opts or {}
        n_vis = num_vision_tokens(self.vcfg) if image is not None else 0
        ids, types = v1.build_input_ids(text_ids, n_vis, self.cfg.get("bos_token_id", BOS_ID), IMAGE_PAD_ID)
        d = {"input_ids": np.asarray(ids, np.int64), "token_type_ids": np.asarray(types, np.int64),
             "opts": opts}
        emb = self.W["model.embed_tokens.weight"][torch.as_tensor(ids)].clone()
        if image is not None:
            d.update(self.encode_image(image, collect=collect, opts=opts))
            vt = torch.as_tensor(types) == VISION
            emb[vt] = d["image_embeds"]
        d["inputs_embeds"] = emb
        d["position_ids"] = (np.arange(len(ids)) if opts.get("sequential_positions")
                             else v1.build_position_ids(types))
        vm = v1.vision_expert_mask(types)
        if opts.get("eoi_vision_expert"):
            vm = np.asarray(types) == VISION
        d["vision_expert_mask"] = vm
        return d

    def forward(self, d, collect=False):
        return llm_forward(self.W, self.cfg, d["inputs_embeds"], d["vision_expert_mask"],
                           d["position_ids"], cache=None, collect=collect, opts=d.get("opts"))

    def step(self, token_ids, types_so_far, cache, opts=None):
        types = list(types_so_far) + [LANG] * len(token_ids)
        pos = v1.build_position_ids(types)[-len(token_ids):]
        emb = self.W["model.embed_tokens.weight"][torch.as_tensor(list(token_ids))]
        r = llm_forward(self.W, self.cfg, emb, v1.vision_expert_mask([LANG] * len(token_ids)), pos,
                        cache=cache, opts=opts)
        return r, types, pos


def load_model(folder, dtype=torch.float32, weights=None):
    """CogVLMRef or CogVLM2Ref, chosen by the checkpoint's tensor names."""
    if weights is None:
        weights = v1.load_checkpoint(folder)
    cls = CogVLM2Ref if is_cogvlm2(weights[1]) else v1.CogVLMRef
    m = cls(folder, dtype=dtype, weights=weights)
    return m


def model_family(folder):
    """'cogvlm2' or 'cogvlm', from the index (or the single file's header) without loading data."""
    idx = os.path.join(folder, "model.safetensors.index.json")
    if os.path.exists(idx):
        with open(idx) as f:
            names = json.load(f)["weight_map"]
    else:
        names = v1.st_read(os.path.join(folder, "model.safetensors"))[0]
    return "cogvlm2" if is_cogvlm2(names) else "cogvlm"
