#!/usr/bin/python3
"""Train the demo model: a small CogVLM (same architecture as cogvlm-chat-hf) on the
pictures and questions of `go run ./tools/shapes`, on the CPU, and write it as a
Hugging Face checkpoint that `go run ./tools/convert` reads.

  /usr/bin/python3 tools/train/train.py --data /tmp/shapes-train --out /tmp/shapes-run

The model is the reference's (tools/reference/cogvlm_ref.py) written for batches:
EVA2-CLIP ViT (CLS first, post-sublayer LayerNorms, erf GELU), GLU adapter, boi/eoi,
a decoder whose boi and patch rows go through the visual expert, all image rows sharing
one RoPE position. Two shortcuts keep a step cheap, and neither changes the function:

* the image prefix ([BOS, boi, patches, eoi]) does not depend on the question (attention is
  causal), so it runs once per picture and the questions of that picture attend to its K/V;
* the output layer has one row per token id the data uses plus one shared row for every
  other id of the 32,000, whose logit enters the softmax plus log(count). Exported with that
  row copied to every unused id, the full-vocabulary softmax equals the trained one.

Every run checkpoints (state.pt) periodically and on time-out, and `--export-only`
turns the latest state into the HF checkpoint, so a partial run is usable.
"""
import argparse
import json
import math
import os
import sys
import time

# Busy-waiting BLAS/OpenMP threads on a shared 2-core machine make a step 10x slower:
# one BLAS thread under torch's own threads, and waiting threads that sleep.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "reference"))
import cogvlm_ref as ref  # noqa: E402
import make_tiny  # noqa: E402

VOCAB = 32000
BOS, EOS = 1, 2


def dims_from_args(a):
    return dict(vocab=VOCAB, hidden=a.hidden, layers=a.layers, heads=a.heads, ffn=a.ffn, rms_eps=1e-5,
                v_image=a.image, v_patch=14, v_hidden=a.v_hidden, v_layers=a.v_layers, v_heads=a.v_heads,
                v_mlp=a.v_mlp)


# ----------------------------------------------------------------------------------------
# data
# ----------------------------------------------------------------------------------------
def load_data(folders, size, out):
    """Every folder's pixels and records, concatenated (the first folder's cache keeps its old name)."""
    us, rs = [], []
    for i, folder in enumerate(folders):
        u8, recs = load_folder(folder, size, os.path.join(out, "pixels.npy" if i == 0 else f"pixels-{i}.npy"))
        us.append(u8)
        rs.extend(recs)
    return (us[0] if len(us) == 1 else np.concatenate(us)), rs


def load_folder(folder, size, cache):
    """data.jsonl + PNGs -> (pixels u8 [N,S,S,3] via the reference's Pillow preprocessing, records)."""
    with open(os.path.join(folder, "data.jsonl")) as f:
        recs = [json.loads(line) for line in f]
    if cache and os.path.exists(cache):
        u8 = np.load(cache)
        if u8.shape[0] == len(recs):
            return u8, recs
    u8 = np.empty((len(recs), size, size, 3), np.uint8)
    for i, r in enumerate(recs):
        u8[i], _ = ref.preprocess(os.path.join(folder, r["image"]), size)
    if cache:
        np.save(cache, u8)
    return u8, recs


def normalize(u8):
    """uint8 [B,S,S,3] -> [B,3,S,S] exactly as ref.preprocess after its resize."""
    x = torch.from_numpy(u8).permute(0, 3, 1, 2).contiguous().to(torch.float32).div(255.0)
    mean = torch.tensor(ref.CLIP_MEAN, dtype=torch.float32).view(1, 3, 1, 1)
    std = torch.tensor(ref.CLIP_STD, dtype=torch.float32).view(1, 3, 1, 1)
    return (x - mean) / std


def build_vocab(recs):
    ids = {BOS, EOS}
    for r in recs:
        for q in r["questions"]:
            ids.update(q["prompt_ids"])
            ids.update(q["answer_ids"])
    return sorted(ids)


# ----------------------------------------------------------------------------------------
# model
# ----------------------------------------------------------------------------------------
class DemoCogVLM(torch.nn.Module):
    """Parameters under their HF names ('.' -> '/'), except embed_tokens and lm_head, which hold
    only the used ids (plus, for lm_head, the shared row of the unused ids, last)."""

    def __init__(self, cfg, used_ids, seed):
        super().__init__()
        self.cfg = cfg
        self.vc = cfg["vision_config"]
        self.register_buffer("used", torch.tensor(used_ids, dtype=torch.int64), persistent=True)
        self.n_unused = VOCAB - len(used_ids)
        g = torch.Generator().manual_seed(seed)
        self.p = torch.nn.ParameterDict()
        for name, shape, kind in make_tiny.tensor_specs(cfg):
            if name in ("model.embed_tokens.weight", "lm_head.weight"):
                shape = (len(used_ids) + (1 if name == "lm_head.weight" else 0), shape[1])
            if kind == "norm" and ".transformer.layers." in name:
                # the ViT's post-sublayer LayerNorms start small, so that at first the residual
                # stream carries the patch embeddings: with weight 1 the normalized sublayer outputs,
                # nearly the same for every patch, swamp them and the image rows collapse to a
                # constant the decoder learns to ignore (seen in a first run)
                t = torch.full(shape, 0.1)
            elif kind == "norm":
                t = torch.ones(shape)
            elif kind == "bias":
                t = torch.zeros(shape)
            elif name.endswith("patch_embedding.proj.weight"):  # unit-variance patch embeddings
                t = torch.randn(shape, generator=g) / math.sqrt(shape[1] * shape[2] * shape[3])
            else:
                t = 0.02 * torch.randn(shape, generator=g)
            self.p[name.replace(".", "/")] = torch.nn.Parameter(t)
        H = cfg["hidden_size"]
        P = (self.vc["image_size"] // self.vc["patch_size"]) ** 2
        self.P = P
        types = [ref.LANG] + [ref.VISION] * (P + 2)
        self.prefix_pos = torch.as_tensor(ref.build_position_ids(types + [ref.LANG]))[:-1]
        vm = ref.vision_expert_mask(types + [ref.LANG])[:-1]  # as in a prefill followed by text
        assert vm[1:P + 2].all() and not vm[0] and not vm[P + 2]
        self.text_pos0 = int(self.prefix_pos[-1]) + 1
        self.hd = H // cfg["num_attention_heads"]

    def w(self, name):
        return self.p[name.replace(".", "/")]

    # ViT + adapter, batched; returns [B, P+2, H] (boi, patches, eoi)
    def image_rows(self, pixels):
        vc, B = self.vc, pixels.shape[0]
        S, ps, Hv, nh = vc["image_size"], vc["patch_size"], vc["hidden_size"], vc["num_heads"]
        hd, eps, g = Hv // nh, vc["layer_norm_eps"], S // ps
        v = "model.vision."
        patches = pixels.view(B, 3, g, ps, g, ps).permute(0, 2, 4, 1, 3, 5).reshape(B, g * g, 3 * ps * ps)
        x = patches @ self.w(v + "patch_embedding.proj.weight").reshape(Hv, -1).t() + self.w(v + "patch_embedding.proj.bias")
        cls = self.w(v + "patch_embedding.cls_embedding").reshape(1, 1, Hv).expand(B, 1, Hv)
        x = torch.cat([cls, x], 1) + self.w(v + "patch_embedding.position_embedding.weight")
        T = x.shape[1]
        for i in range(vc["num_hidden_layers"]):
            q = f"{v}transformer.layers.{i}."
            qkv = x @ self.w(q + "attention.query_key_value.weight").t() + self.w(q + "attention.query_key_value.bias")
            qkv = qkv.view(B, T, 3, nh, hd).permute(2, 0, 3, 1, 4)  # 3,B,nh,T,hd
            s = (qkv[0] * hd ** -0.5) @ qkv[1].transpose(-1, -2)
            a = (torch.softmax(s, -1) @ qkv[2]).transpose(1, 2).reshape(B, T, Hv)
            a = a @ self.w(q + "attention.dense.weight").t() + self.w(q + "attention.dense.bias")
            x = x + F.layer_norm(a, (Hv,), self.w(q + "input_layernorm.weight"), self.w(q + "input_layernorm.bias"), eps)
            m = F.gelu(x @ self.w(q + "mlp.fc1.weight").t() + self.w(q + "mlp.fc1.bias"))
            m = m @ self.w(q + "mlp.fc2.weight").t() + self.w(q + "mlp.fc2.bias")
            x = x + F.layer_norm(m, (Hv,), self.w(q + "post_attention_layernorm.weight"),
                                 self.w(q + "post_attention_layernorm.bias"), eps)
        feats = x[:, 1:]
        H = self.cfg["hidden_size"]
        h = feats @ self.w(v + "linear_proj.linear_proj.weight").t()
        h = F.gelu(F.layer_norm(h, (H,), self.w(v + "linear_proj.norm1.weight"), self.w(v + "linear_proj.norm1.bias"),
                                ref.ADAPTER_LN_EPS))
        h = (F.silu(h @ self.w(v + "linear_proj.gate_proj.weight").t()) * (h @ self.w(v + "linear_proj.dense_h_to_4h.weight").t())) \
            @ self.w(v + "linear_proj.dense_4h_to_h.weight").t()
        self.adapter_out = h  # read by the auxiliary patch head (training only, never exported)
        boi = self.w(v + "boi").reshape(1, 1, H).expand(B, 1, H)
        eoi = self.w(v + "eoi").reshape(1, 1, H).expand(B, 1, H)
        return torch.cat([boi, h, eoi], 1)

    def _rope(self, x, pos):
        cos, sin = ref.rope_cos_sin(pos, self.hd)
        return x * cos + ref.rotate_half(x) * sin

    def _expert(self, x, name_v, name_l, vis):
        """Linear through the vision expert on rows vis (a slice of dim 1) and language elsewhere."""
        if vis is None:
            return x @ self.w(name_l).t()
        parts = [x[:, :vis.start] @ self.w(name_l).t(), x[:, vis] @ self.w(name_v).t(), x[:, vis.stop:] @ self.w(name_l).t()]
        return torch.cat(parts, 1)

    def _mlp(self, h, p, vis):
        def one(z, e):
            return (F.silu(z @ self.w(p + f"mlp.{e}.gate_proj.weight").t()) * (z @ self.w(p + f"mlp.{e}.up_proj.weight").t())) \
                @ self.w(p + f"mlp.{e}.down_proj.weight").t()
        if vis is None:
            return one(h, "language_mlp")
        return torch.cat([one(h[:, :vis.start], "language_mlp"), one(h[:, vis], "vision_mlp"),
                          one(h[:, vis.stop:], "language_mlp")], 1)

    def forward(self, pixels, text_ids, per_image):
        """pixels [B,3,S,S]; text_ids [B*per_image, L] compact ids (prompt + answer, padded);
        returns compact logits [B*per_image, L, n_used+1] (unused row offset by log(count))."""
        cfg, H, eps = self.cfg, self.cfg["hidden_size"], self.cfg["rms_norm_eps"]
        nh, hd = cfg["num_attention_heads"], self.hd
        emb = self.w("model.embed_tokens.weight")
        B = pixels.shape[0]
        xp = torch.cat([emb[self.bos_c].reshape(1, 1, H).expand(B, 1, H), self.image_rows(pixels)], 1)
        Np = xp.shape[1]
        xt = emb[text_ids]
        N, L = text_ids.shape
        vis = slice(1, Np - 1)
        pos_t = torch.arange(L) + self.text_pos0
        causal_p = torch.full((Np, Np), float("-inf")).triu(1)
        causal_t = torch.cat([torch.zeros(L, Np), torch.full((L, L), float("-inf")).triu(1)], 1)
        for i in range(cfg["num_hidden_layers"]):
            p = f"model.layers.{i}."
            hp = ref.rms_norm(xp, self.w(p + "input_layernorm.weight"), eps)
            ht = ref.rms_norm(xt, self.w(p + "input_layernorm.weight"), eps)
            qkv_p = self._expert(hp, p + "self_attn.vision_expert_query_key_value.weight",
                                 p + "self_attn.language_expert_query_key_value.weight", vis)
            qkv_t = ht @ self.w(p + "self_attn.language_expert_query_key_value.weight").t()
            qp, kp, vp = (t.reshape(B, Np, nh, hd).transpose(1, 2) for t in qkv_p.split(H, -1))
            qt, kt, vt = (t.reshape(N, L, nh, hd).transpose(1, 2) for t in qkv_t.split(H, -1))
            qp, kp = self._rope(qp, self.prefix_pos), self._rope(kp, self.prefix_pos)
            qt, kt = self._rope(qt, pos_t), self._rope(kt, pos_t)
            ap = torch.softmax((qp / math.sqrt(hd)) @ kp.transpose(-1, -2) + causal_p, -1) @ vp
            kk = torch.cat([kp.repeat_interleave(per_image, 0), kt], 2)
            vv = torch.cat([vp.repeat_interleave(per_image, 0), vt], 2)
            at = torch.softmax((qt / math.sqrt(hd)) @ kk.transpose(-1, -2) + causal_t, -1) @ vv
            ap = ap.transpose(1, 2).reshape(B, Np, H)
            at = at.transpose(1, 2).reshape(N, L, H)
            xp = xp + self._expert(ap, p + "self_attn.vision_expert_dense.weight", p + "self_attn.language_expert_dense.weight", vis)
            xt = xt + at @ self.w(p + "self_attn.language_expert_dense.weight").t()
            xp = xp + self._mlp(ref.rms_norm(xp, self.w(p + "post_attention_layernorm.weight"), eps), p, vis)
            xt = xt + self._mlp(ref.rms_norm(xt, self.w(p + "post_attention_layernorm.weight"), eps), p, None)
            if i == 0:
                self.text_mid = xt  # read by the auxiliary noun head (training only)
        ht = ref.rms_norm(xt, self.w("model.norm.weight"), eps)
        logits = ht @ self.w("lm_head.weight").t()
        offset = torch.zeros(logits.shape[-1])
        offset[-1] = math.log(self.n_unused)
        return logits + offset

    def set_compact(self, used_ids):
        self.bos_c = used_ids.index(BOS)

    def export(self):
        """Full HF tensors (fp32): embeddings of unused ids zero, their lm_head rows = the shared row."""
        out = {}
        used = self.used
        for name, shape, _ in make_tiny.tensor_specs(self.cfg):
            t = self.w(name).detach().clone()
            if name == "model.embed_tokens.weight":
                full = torch.zeros(shape)
                full[used] = t
                t = full
            elif name == "lm_head.weight":
                full = t[-1:].expand(shape).clone()
                full[used] = t[:-1]
                t = full
            out[name] = t
        return out


# The auxiliary patch head: for each image row the adapter hands the decoder (one per ViT
# patch), which shape, if any, is centred on each of the patch's four corners (shape centres
# sit on the patch grid's inner corners), its colour and size, and the patch's own row and
# column. It gives the vision tower a dense signal about every patch from the first step,
# where the answers alone give it a weak one through the decoder; the head is dropped at
# export, so the shipped model's architecture and function are CogVLM's.
KINDS = ["circle", "square", "triangle", "star", "diamond"]
COLOURS = ["red", "green", "blue", "yellow", "purple", "orange"]
RADII = [36, 48, 60]
CANVAS = 448
GRID = 8  # patches per side at the demo's 112 px input; shape centres are multiples of CANVAS/GRID
AUX_OUT = 4 * (1 + len(KINDS) + len(COLOURS) + len(RADII)) + 2 * GRID


def aux_labels(recs, idx):
    """[B, P, 4, 3] (kind+1 or 0 for none, colour, size; -100 where no shape) per patch corner."""
    lab = np.full((len(idx), GRID, GRID, 4, 3), -100, np.int64)
    lab[..., 0] = 0
    cell = CANVAS // GRID
    for b, i in enumerate(idx):
        for s in recs[i]["shapes"]:
            a, c = s["CX"] // cell, s["CY"] // cell  # the grid point (column a, row c)
            assert s["CX"] % cell == 0 and s["CY"] % cell == 0, "shape centres must sit on the patch grid"
            val = (KINDS.index(s["Kind"]) + 1, COLOURS.index(s["Colour"]), RADII.index(s["R"]))
            # the point is the TL corner of patch (c, a), TR of (c, a-1), BL of (c-1, a), BR of (c-1, a-1)
            for corner, (r, col) in enumerate([(c, a), (c, a - 1), (c - 1, a), (c - 1, a - 1)]):
                if 0 <= r < GRID and 0 <= col < GRID:
                    lab[b, r, col, corner] = val
    return torch.from_numpy(lab.reshape(len(idx), GRID * GRID, 4, 3))


def aux_loss(head, h, lab):
    """Cross-entropy of the patch head's predictions on adapter rows h [B, P, H]."""
    B, P, _ = h.shape
    o = head(h)
    nk, nc, ns = 1 + len(KINDS), len(COLOURS), len(RADII)
    per = o[..., :4 * (nk + nc + ns)].reshape(B, P, 4, nk + nc + ns)
    loss = F.cross_entropy(per[..., :nk].reshape(-1, nk), lab[..., 0].reshape(-1))
    loss = loss + F.cross_entropy(per[..., nk:nk + nc].reshape(-1, nc), lab[..., 1].reshape(-1), ignore_index=-100)
    loss = loss + F.cross_entropy(per[..., nk + nc:].reshape(-1, ns), lab[..., 2].reshape(-1), ignore_index=-100)
    pos = o[..., 4 * (nk + nc + ns):]
    rows = torch.arange(P) // GRID
    cols = torch.arange(P) % GRID
    loss = loss + F.cross_entropy(pos[..., :GRID].reshape(-1, GRID), rows.repeat(B))
    loss = loss + F.cross_entropy(pos[..., GRID:].reshape(-1, GRID), cols.repeat(B))
    return loss


# The auxiliary noun head: a question names a shape kind ("Where is the square?"); after the
# decoder's first layer, the row of that word predicts what the picture holds of that kind
# (present or not, colour, centre row and column on the grid, size). This trains the lookup
# every question about one shape needs (the word attends to the image rows of its kind) with
# a direct signal; the answer rows then only copy from the word. Dropped at export.
QMARK = 29973  # "?": the kind's last token is the one before the first question mark
NOUN_OUT = 2 + len(COLOURS) + 7 + 7 + len(RADII)


def noun_labels(recs, idx):
    """(positions [N], labels [N, 5]) per question of the batch, in make_batch's order;
    position -1 for questions that name no kind."""
    cell = CANVAS // GRID
    pos, lab = [], []
    for i in idx:
        shapes = {s["Kind"]: s for s in recs[i]["shapes"]}
        for q in recs[i]["questions"]:
            kinds = [k for k in KINDS if k in q["question"]]
            if len(kinds) != 1:
                pos.append(-1)
                lab.append([-100] * 5)
                continue
            pos.append(q["prompt_ids"].index(QMARK) - 1)
            s = shapes.get(kinds[0])
            if s is None:
                lab.append([0, -100, -100, -100, -100])
            else:
                lab.append([1, COLOURS.index(s["Colour"]), s["CY"] // cell - 1, s["CX"] // cell - 1, RADII.index(s["R"])])
    return torch.tensor(pos), torch.tensor(lab)


def noun_loss(head, xt, pos, lab):
    keep = pos >= 0
    rows = xt[torch.arange(xt.shape[0])[keep], pos[keep]]
    rows = rows * torch.rsqrt(rows.pow(2).mean(-1, keepdim=True) + 1e-5)  # the residual's scale drifts
    o = head(rows)
    lab = lab[keep]
    loss = 0.0
    for j, (a, b) in enumerate([(0, 2), (2, 2 + len(COLOURS)), (8, 15), (15, 22), (22, NOUN_OUT)]):
        loss = loss + F.cross_entropy(o[:, a:b], lab[:, j], ignore_index=-100)
    return loss


def make_batch(u8, recs, idx, c_of):
    pixels = normalize(u8[idx])
    seqs, targets = [], []
    for i in idx:
        for q in recs[i]["questions"]:
            s = [c_of[t] for t in q["prompt_ids"] + q["answer_ids"]]
            y = [-100] * (len(q["prompt_ids"]) - 1) + [c_of[t] for t in q["answer_ids"]] + [-100]
            seqs.append(s)
            targets.append(y)
    L = max(len(s) for s in seqs)
    X = torch.zeros(len(seqs), L, dtype=torch.int64)
    Y = torch.full((len(seqs), L), -100, dtype=torch.int64)
    for j, (s, y) in enumerate(zip(seqs, targets)):
        X[j, :len(s)] = torch.tensor(s)
        Y[j, :len(y)] = torch.tensor(y)
    return pixels, X, Y


def write_hf(model, out_dir, dtype):
    tensors = model.export()
    order = [n for n, _, _ in make_tiny.tensor_specs(model.cfg)]
    make_tiny.write_checkpoint(out_dir, model.cfg, tensors, dtype, 1, order)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, action="append", help="folder written by tools/shapes (repeatable)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--steps", type=int, default=100000)
    ap.add_argument("--batch", type=int, default=8, help="pictures per step (every question of each)")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--minutes", type=float, default=0, help="stop and export after this wall time (0 = no limit)")
    ap.add_argument("--freeze-vision", type=float, default=0.3,
                    help="keep the ViT and adapter at their initialisation for this fraction of the run")
    ap.add_argument("--vision-lr", type=float, default=0.5, help="learning-rate multiplier of the ViT and adapter")
    ap.add_argument("--vision-ramp", type=int, default=400, help="steps over which the vision rate ramps up once thawed")
    ap.add_argument("--stop-step", type=int, default=0, help="stop (checkpoint and export) after this step; the schedule is unchanged")
    ap.add_argument("--ckpt-every", type=int, default=100)
    ap.add_argument("--aux-weight", type=float, default=0.0,
                    help="weight of the auxiliary patch loss on the adapter's rows (0 = answers only)")
    ap.add_argument("--noun-weight", type=float, default=0.0,
                    help="weight of the auxiliary noun loss after the decoder's first layer (0 = none)")
    ap.add_argument("--new-schedule", action="store_true",
                    help="on resume, restart the warm-up and the time budget at the resumed step")
    ap.add_argument("--export-only", action="store_true", help="write hf/ from the latest state.pt and exit")
    ap.add_argument("--dtype", default="F16", choices=["F16", "BF16", "F32"], help="dtype of the HF checkpoint")
    ap.add_argument("--image", type=int, default=112)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--ffn", type=int, default=512)
    ap.add_argument("--v-hidden", type=int, default=256)
    ap.add_argument("--v-layers", type=int, default=3)
    ap.add_argument("--v-heads", type=int, default=4)
    ap.add_argument("--v-mlp", type=int, default=512)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    os.makedirs(a.out, exist_ok=True)
    cfg = make_tiny.make_config(dims_from_args(a), a.dtype, "chat")
    state_path = os.path.join(a.out, "state.pt")
    if a.export_only:  # the dimensions come from the command line, the vocabulary from the state
        st = torch.load(state_path)
        used = st["model"]["used"].tolist()
        model = DemoCogVLM(cfg, used, a.seed)
        model.load_state_dict(st["model"])
        write_hf(model, os.path.join(a.out, "hf"), a.dtype)
        print(f"wrote {os.path.join(a.out, 'hf')} from step {st['step']}")
        return
    u8, recs = load_data(a.data, a.image, a.out)
    used = build_vocab(recs)
    c_of = {t: i for i, t in enumerate(used)}
    model = DemoCogVLM(cfg, used, a.seed)
    model.set_compact(used)
    vis = [p for n, p in model.p.items() if n.startswith("model/vision/")]
    rest = [p for n, p in model.p.items() if not n.startswith("model/vision/")]
    opt = torch.optim.AdamW([{"params": rest, "mult": 1.0}, {"params": vis, "mult": a.vision_lr}],
                            lr=a.lr, betas=(0.9, 0.98), weight_decay=0.01)
    head = torch.nn.Linear(cfg["hidden_size"], AUX_OUT)  # the auxiliary patch head (not exported)
    nhead = torch.nn.Linear(cfg["hidden_size"], NOUN_OUT)  # the auxiliary noun head (not exported)
    step, elapsed0, step0 = 0, 0.0, 0
    st = torch.load(state_path) if os.path.exists(state_path) else None
    # the heads' groups always exist (without their losses they get no gradient and stay put)
    opt.add_param_group({"params": list(head.parameters()), "mult": 1.0})
    opt.add_param_group({"params": list(nhead.parameters()), "mult": 1.0})
    if st is not None:
        if st["model"]["used"].tolist() != used:
            sys.exit(f"{state_path}: the saved run used other token ids than this data; resume on data with the same vocabulary")
        model.load_state_dict(st["model"])
        if "aux_head" in st:
            head.load_state_dict(st["aux_head"])
        if "noun_head" in st:
            nhead.load_state_dict(st["noun_head"])
        # a run resumed with more heads than it saved: load the saved groups, keep the new ones fresh
        saved, groups = st["opt"], opt.param_groups
        n = len(saved["param_groups"])
        opt.param_groups = groups[:n]
        opt.load_state_dict(saved)
        opt.param_groups.extend(groups[n:])
        opt.param_groups[1]["mult"] = a.vision_lr  # the command line's, not the saved one
        step = st["step"]
        elapsed0 = st.get("elapsed", 0.0)
        step0 = st.get("step0", 0)
        if a.new_schedule:
            elapsed0, step0 = 0.0, step
        print(f"resumed at step {step} (schedule from step {step0})", flush=True)
    nparams = sum(p.numel() for p in model.parameters())
    print(f"{len(recs)} pictures, {len(used)} token ids used, {nparams} trained parameters; "
          f"torch {torch.__version__}, {a.threads} threads", flush=True)

    def progress():
        if a.minutes:
            return (elapsed0 + time.time() - t0) / (a.minutes * 60)
        return step / a.steps

    def lr_at(s):
        """Linear warm-up, then cosine decay to zero over the steps, or over the time budget when
        --minutes is set (so the schedule fits whatever speed the machine gives)."""
        s -= step0
        if s < a.warmup:
            return a.lr * (s + 1) / a.warmup
        frac = (s - a.warmup) / max(1, a.steps - step0 - a.warmup)
        if a.minutes:
            frac = max(frac, (elapsed0 + time.time() - t0) / (a.minutes * 60))
        return a.lr * 0.5 * (1 + math.cos(math.pi * min(1.0, frac)))

    order_rng = np.random.default_rng(a.seed)
    perm = order_rng.permutation(len(recs))
    t0 = time.time()
    hist = []

    def save():
        tmp = state_path + ".tmp"
        st = {"model": model.state_dict(), "opt": opt.state_dict(), "step": step, "args": vars(a),
              "elapsed": elapsed0 + time.time() - t0, "step0": step0}
        st["aux_head"] = head.state_dict()
        st["noun_head"] = nhead.state_dict()
        torch.save(st, tmp)
        os.replace(tmp, state_path)

    thawed = None
    while step < a.steps:
        k = (step * a.batch) % len(recs)
        if k + a.batch > len(recs):
            perm = order_rng.permutation(len(recs))
            k = 0
        idx = perm[k:k + a.batch]
        pixels, X, Y = make_batch(u8, recs, idx, c_of)
        frozen = progress() < a.freeze_vision
        if not frozen and thawed is None:
            thawed = step
        for gparam in opt.param_groups:
            gparam["lr"] = lr_at(step) * gparam["mult"]
            if gparam["mult"] != 1.0 and thawed is not None:  # the vision group ramps up once thawed
                gparam["lr"] *= min(1.0, (step - thawed + 1) / a.vision_ramp)
        # The vision tower and adapter stay at their random initialisation at first: random
        # features keep every picture distinct while the decoder learns to read them. Trained
        # from the first step, they collapsed to one constant image (two first runs): the decoder
        # learns the language prior first and uses the image rows as a fixed bias. Thawed at once
        # they collapsed too (a third run: Adam's first updates are lr-sized whatever the
        # gradient), hence the ramp.
        for p in vis:
            p.requires_grad_(not frozen)
        logits = model(pixels, X, len(recs[idx[0]]["questions"]))
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), Y.reshape(-1), ignore_index=-100)
        aux = torch.zeros(())
        if a.aux_weight > 0 and not frozen:
            aux = aux_loss(head, model.adapter_out, aux_labels(recs, idx))
            loss_total = loss + a.aux_weight * aux
        else:
            loss_total = loss
        noun = torch.zeros(())
        if a.noun_weight > 0:
            noun = noun_loss(nhead, model.text_mid, *noun_labels(recs, idx))
            loss_total = loss_total + a.noun_weight * noun
        opt.zero_grad(set_to_none=True)
        loss_total.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        with torch.no_grad():
            m = Y != -100
            acc = (logits.argmax(-1)[m] == Y[m]).float().mean().item()
        hist.append((loss.item(), acc, aux.item(), float(noun)))
        if step % 20 == 0 or step == 1:
            el = time.time() - t0
            l20 = np.mean([h[0] for h in hist[-20:]])
            a20 = np.mean([h[1] for h in hist[-20:]])
            x20 = np.mean([h[2] for h in hist[-20:]])
            n20 = np.mean([h[3] for h in hist[-20:]])
            print(f"step {step} loss {l20:.4f} token-acc {a20:.4f} aux {x20:.3f} noun {n20:.3f} lr {lr_at(step):.2e} "
                  f"{el / 60:.1f} min ({len(hist) / el:.2f} steps/s)", flush=True)
        if step % a.ckpt_every == 0:
            save()
        if a.stop_step and step >= a.stop_step:
            print(f"stopped at step {step} (--stop-step)", flush=True)
            break
        if a.minutes and elapsed0 + time.time() - t0 > a.minutes * 60:
            print(f"time budget reached at step {step}", flush=True)
            break
    save()
    write_hf(model, os.path.join(a.out, "hf"), a.dtype)
    print(f"done: step {step}, {(time.time() - t0) / 60:.1f} min; wrote {os.path.join(a.out, 'hf')}", flush=True)


if __name__ == "__main__":
    main()
