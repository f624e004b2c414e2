#!/usr/bin/python3
"""Write golden reference tensors for one CogVLM or CogVLM2 case (or all cases of cases.json).

One case:
  /usr/bin/python3 golden.py --model models/tiny --image ../../testdata/images/chelsea.png --template chat \
      --query "What is in the image?" --text-ids 894,29901,1724,338,297,278,1967,29973,673,29901 \
      --out golden/tiny-image-chat
  (--history '[["q1","a1"],["q2","a2"]]' for chat history; omit --image for text only)
All cases:
  /usr/bin/python3 golden.py --all            # reads cases.json, writes golden/<name>/

The prompt is given as token ids: text_ids = tokenizer.encode(prompt_text, add_special_tokens=False)
where prompt_text = template(history, query); BOS and the image placeholders are added here.
Output: manifest.json + little-endian raw .bin files (shapes/dtypes in the manifest).
The model family (CogVLM-1 or CogVLM2) is read from the checkpoint (cogvlm2_ref.load_model).
"""
import argparse
import hashlib
import json
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import cogvlm_ref as ref  # noqa: E402
import cogvlm2_ref as ref2  # noqa: E402

N_NEW = 16

# Tolerances a correct fp32 re-implementation (reading the same BF16 weights, computing in
# fp32) is expected to meet against these goldens; calibrated by selfcheck.py (fp64 noise
# floor x ~10, and well below the smallest effect of any known bug variant). See README.md.
TOLERANCES = {
    "resized_rgb": {"max_abs": 0, "note": "exact with a Pillow-equivalent BICUBIC resampler"},
    "pixel_values": {"max_abs": 1e-6, "note": "bit-exact expected: (float32(u8)/255 - mean)/std in "
                                              "fp32; a float (non-Pillow) bicubic gives up to ~0.03"},
    "vit_hidden_states": {"max_abs": 1e-4, "max_rel_l2": 2e-5},
    "vit_output": {"max_abs": 1e-4, "max_rel_l2": 2e-5},
    "image_embeds": {"max_abs": 5e-6, "max_rel_l2": 2e-5},
    "inputs_embeds": {"max_abs": 5e-6, "max_rel_l2": 2e-5},
    "input_ids": {"exact": True}, "token_type_ids": {"exact": True},
    "position_ids": {"exact": True}, "vision_expert_mask": {"exact": True},
    "layer_hidden_states": {"max_abs": 3e-5, "max_rel_l2": 2e-5},
    "final_hidden": {"max_abs": 1e-4, "max_rel_l2": 2e-5},
    "logits": {"max_abs": 5e-5, "max_rel_l2": 2e-5, "top1_agreement": 1.0},
    "decode_logits": {"max_abs": 5e-5, "max_rel_l2": 2e-5, "top1_agreement": 1.0},
    "generated_ids": {"exact": True}, "generated_position_ids": {"exact": True},
}

# CogVLM2 goldens: the same keys plus conv_output (calibrated by selfcheck.py [G]/[H] on the
# cogvlm2-* cases; see README.md).
TOLERANCES2 = dict(TOLERANCES)
TOLERANCES2["conv_output"] = {"max_abs": 2e-5, "max_rel_l2": 2e-5}


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class Writer:
    def __init__(self, out):
        self.out = out
        self.tensors = {}
        os.makedirs(out, exist_ok=True)

    def put(self, name, arr, dtype, desc, axes):
        if isinstance(arr, torch.Tensor):
            arr = arr.detach().cpu().numpy()
        arr = np.asarray(arr)
        np_dt = {"float32": "<f4", "int32": "<i4", "uint8": "u1"}[dtype]
        if dtype == "float32" and not np.isfinite(arr).all():
            raise ValueError(f"{name}: non-finite values")
        data = np.ascontiguousarray(arr.astype(np_dt))
        ext = {"float32": "f32", "int32": "i32", "uint8": "u8"}[dtype]
        fn = f"{name}.{ext}.bin"
        data.tofile(os.path.join(self.out, fn))
        assert len(axes) == data.ndim, (name, axes, data.shape)
        self.tensors[name] = {"file": fn, "dtype": dtype, "shape": list(data.shape),
                              "axes": axes, "desc": desc, "sha256": sha256_file(os.path.join(self.out, fn))}


def dump_json(obj, indent=1, level=0):
    """JSON with lists of scalars kept on one line (readable manifests)."""
    pad, pad1 = " " * (indent * level), " " * (indent * (level + 1))
    if isinstance(obj, dict):
        if not obj:
            return "{}"
        items = [pad1 + json.dumps(k) + ": " + dump_json(v, indent, level + 1) for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(obj, list) and any(isinstance(v, (dict, list)) for v in obj):
        if all(isinstance(v, list) and not any(isinstance(x, (dict, list)) for x in v) for v in obj):
            return "[" + ", ".join(json.dumps(v) for v in obj) + "]"
        return "[\n" + ",\n".join(pad1 + dump_json(v, indent, level + 1) for v in obj) + "\n" + pad + "]"
    return json.dumps(obj)


def stats_of(t):
    t = t.detach().double()
    return {"std": float(t.std()), "absmax": float(t.abs().max()), "mean": float(t.mean())}


def run_case(model_dir, text_ids, out, image=None, template="chat", query=None, history=None,
             name=None, n_new=N_NEW, model=None):
    m = model or ref2.load_model(model_dir)
    cfg, vcfg = m.cfg, m.vcfg
    is2 = getattr(m, "family", "cogvlm") == "cogvlm2"
    d = m.prepare(text_ids, image=image, collect=True)
    fw = m.forward(d, collect=True)
    toks, step_logits, gen_pos = m.generate(d, n_new=n_new, prefill=fw)

    w = Writer(out)
    L = len(d["input_ids"])
    H, V = cfg["hidden_size"], cfg["vocab_size"]
    if image is not None:
        S = vcfg["image_size"]
        P = (S // vcfg["patch_size"]) ** 2
        w.put("resized_rgb", d["resized_u8"], "uint8",
              "image after convert('RGB') and Image.resize((S,S), BICUBIC); HWC", ["y", "x", "rgb"])
        w.put("pixel_values", d["pixels"], "float32",
              "preprocessed pixels: (u8/255 - CLIP mean)/CLIP std, CHW", ["c", "y", "x"])
        w.put("vit_hidden_states", d["vit_states"], "float32",
              "ViT residual stream incl. CLS at row 0: [0] = patch+CLS+pos embeddings, [i] = after "
              "layer i (debug aid)", ["layer+1", "P+1", "Hv"])
        w.put("vit_output", d["vit"], "float32",
              "ViT output after the last layer with the CLS row dropped (no final LN)", ["P", "Hv"])
        if is2:
            w.put("conv_output", d["conv"], "float32",
                  "Conv2d(Hv,Hv,k=2,s=2,bias) of vit_output laid out as a g x g grid (raster order in "
                  "and out, odd last row/column dropped)", ["G*G", "Hv"])
            w.put("image_embeds", d["image_embeds"], "float32",
                  "[boi, GLU adapter(conv_output), eoi]", ["G*G+2", "H"])
        else:
            w.put("image_embeds", d["image_embeds"], "float32",
                  "[boi, GLU adapter(vit_output), eoi]", ["P+2", "H"])
    if is2:
        w.put("input_ids", d["input_ids"], "int32",
              "[BOS=128000] + [128002]*(G*G+2) + text_ids (G = image_size // patch_size // 2)", ["L"])
    else:
        w.put("input_ids", d["input_ids"], "int32", "[BOS] + [pad=0]*(P+2) + text_ids", ["L"])
    w.put("token_type_ids", d["token_type_ids"], "int32", "0 = LANG, 1 = VISION", ["L"])
    w.put("position_ids", d["position_ids"], "int32", "HF build_position_ids (RoPE ids)", ["L"])
    w.put("vision_expert_mask", d["vision_expert_mask"].astype(np.int32), "int32",
          "1 = token uses the vision expert (type[t]==V and type[t+1]==V)", ["L"])
    w.put("inputs_embeds", d["inputs_embeds"], "float32",
          "embed_tokens(input_ids) with the VISION rows replaced by image_embeds", ["L", "H"])
    w.put("layer_hidden_states", fw["layers"], "float32",
          "decoder residual stream: [i] = input of layer i, [N] = output of the last layer "
          "(before model.norm) (debug aid)", ["layer+1", "L", "H"])
    w.put("final_hidden", fw["hidden"], "float32", "hidden state after model.norm", ["L", "H"])
    w.put("logits", fw["logits"], "float32", "lm_head(final_hidden), every position", ["L", "V"])
    w.put("generated_ids", toks, "int32",
          f"greedy continuation with the KV cache, exactly {n_new} tokens, no EOS stop", ["n_new"])
    w.put("generated_position_ids", gen_pos, "int32",
          "RoPE position each generated token gets when fed back (last prompt position + 1 + i)",
          ["n_new"])
    w.put("decode_logits", step_logits, "float32",
          "row i = logits that chose generated_ids[i]: row 0 = logits[L-1] of the prefill, row i>0 "
          "= output of the one-token cached step that fed generated_ids[i-1]", ["n_new", "V"])

    top2 = torch.topk(fw["logits"], 2, dim=-1).values
    top2d = torch.topk(step_logits, 2, dim=-1).values
    prompt_text = ref.history_to_prompt(template, history or [], query) if query is not None else None
    eos = cfg.get("eos_token_id", 2)
    eos_set = set(eos) if isinstance(eos, list) else {eos}
    if is2:
        cfg_keys = ("vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers",
                    "num_attention_heads", "num_multi_query_heads", "rms_norm_eps", "template_version")
    else:
        cfg_keys = ("vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers",
                    "num_attention_heads", "rms_norm_eps", "torch_dtype", "template_version")
    man = {
        "format": "cogvlm-oracle-golden/1",
        "case": name or os.path.basename(os.path.normpath(out)),
        "model_dir": os.path.relpath(os.path.abspath(model_dir), os.path.abspath(out)),
        "checkpoint_files_sha256": {fn: sha256_file(os.path.join(model_dir, fn))
                                    for fn in sorted(os.listdir(model_dir))
                                    if fn.endswith(".safetensors") or fn.endswith(".json")},
        "config": {k: cfg.get(k) for k in cfg_keys},
        "vision_config": vcfg,
        "compute": "float32 from the stored BF16 values (bf16 widened exactly), CPU PyTorch "
                   + torch.__version__,
        "pillow_version": __import__("PIL").__version__,
        "image": None,
        "template": template,
        "history": history or [],
        "query": query,
        "prompt_text": prompt_text,
        "text_ids": [int(x) for x in text_ids],
        "text_ids_note": "tokenizer.encode(prompt_text, add_special_tokens=False); given to the oracle",
        "bos_token_id": cfg.get("bos_token_id", 1), "pad_token_id": cfg.get("pad_token_id", 0),
        "eos_token_id": cfg.get("eos_token_id", 2),
        "seq_len": L,
        "n_vision_tokens": int((d["token_type_ids"] == ref.VISION).sum()),
        "input_ids": [int(x) for x in d["input_ids"]],
        "position_ids": [int(x) for x in d["position_ids"]],
        "generated_ids": [int(x) for x in toks],
        "generated_contains_eos": bool(any(int(t) in eos_set for t in toks)),
        "decoding": "greedy argmax (lowest id on ties), KV cache, new tokens LANG (language "
                    "expert), position = last + 1, exactly n_new tokens (no EOS stop)",
        "stats": {
            "logits": stats_of(fw["logits"]),
            "final_hidden": stats_of(fw["hidden"]),
            "inputs_embeds": stats_of(d["inputs_embeds"]),
            "logits_min_top1_top2_margin": float((top2[:, 0] - top2[:, 1]).min()),
            "decode_min_top1_top2_margin": float((top2d[:, 0] - top2d[:, 1]).min()),
        },
        "tolerances_fp32": TOLERANCES2 if is2 else TOLERANCES,
        "tensors": w.tensors,
    }
    if is2:
        man["format"] = "cogvlm2-oracle-golden/1"
        man["family"] = "cogvlm2"
        man["rope"] = {"base": ref2.ROPE_BASE, "num_key_value_heads": ref2.kv_heads(cfg),
                       "inv_freq_source": ("checkpoint buffer model.layers.N.self_attn.rotary_emb.inv_freq"
                                           if ref2.inv_freq_key(0) in m.W else "formula 1/500000^(2i/hd), fp32"),
                       "positions": "fp32"}
        man["decoding"] += "; stop ids (not applied) " + str(sorted(eos_set))
    if image is not None:
        img_path = os.path.abspath(image)
        from PIL import Image
        with Image.open(img_path) as im:
            man["image"] = {"file": os.path.relpath(img_path, os.path.abspath(out)),
                            "sha256": sha256_file(img_path), "size_wh": list(im.size),
                            "mode": im.mode, "resized_to": vcfg["image_size"]}
        man["stats"]["vit_output"] = stats_of(d["vit"])
        if is2:
            man["stats"]["conv_output"] = stats_of(d["conv"])
        man["stats"]["image_embeds"] = stats_of(d["image_embeds"])
    with open(os.path.join(out, "manifest.json"), "w") as f:
        f.write(dump_json(man) + "\n")
    return man


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--all", action="store_true", help="generate every case of --cases")
    ap.add_argument("--cases", default=os.path.join(HERE, "cases.json"))
    ap.add_argument("--only", help="with --all: comma list of case names")
    ap.add_argument("--model")
    ap.add_argument("--image")
    ap.add_argument("--template", choices=["base", "chat", "vqa"], default="chat")
    ap.add_argument("--query")
    ap.add_argument("--history", default="[]", help='JSON list of [question, answer] pairs')
    ap.add_argument("--text-ids", help="comma-separated ids of the templated prompt text")
    ap.add_argument("--n-new", type=int, default=N_NEW)
    ap.add_argument("--out")
    a = ap.parse_args()
    if a.all:
        with open(a.cases) as f:
            cases = json.load(f)["cases"]
        base = os.path.dirname(os.path.abspath(a.cases))
        only = set(a.only.split(",")) if a.only else None
        models = {}
        for c in cases:
            if only and c["name"] not in only:
                continue
            md = os.path.join(base, c["model"])
            if md not in models:
                models[md] = ref2.load_model(md)
            out = os.path.join(base, "golden", c["name"])
            img = os.path.join(base, c["image"]) if c.get("image") else None
            man = run_case(md, c["text_ids"], out, image=img, template=c["template"],
                           query=c["query"], history=c.get("history"), name=c["name"],
                           n_new=a.n_new, model=models[md])
            print(f"{c['name']}: L={man['seq_len']} gen={man['generated_ids']} "
                  f"margin(decode)={man['stats']['decode_min_top1_top2_margin']:.5f}")
        return
    if not (a.model and a.text_ids and a.out):
        ap.error("--model, --text-ids and --out are required (or use --all)")
    ids = [int(x) for x in a.text_ids.split(",") if x.strip()]
    man = run_case(a.model, ids, a.out, image=a.image, template=a.template, query=a.query,
                   history=json.loads(a.history), n_new=a.n_new)
    print(f"{man['case']}: L={man['seq_len']} gen={man['generated_ids']}")


if __name__ == "__main__":
    main()
