"""make_odd.py: the odd-grid variant of the tiny CogVLM2 checkpoint (testdata/README.md).

The variant is hf/ with a 70 px input: a 5x5 patch grid, which the 2x2 stride-2 conv floors to
2x2 (its last patch row and column are dropped). Only the position embedding depends on the grid
(26 rows instead of 17); its rows are drawn from N(0, 0.02) with seed 70 and rounded to BF16.

Writes OUT (a complete HF folder for golden.py; not committed) and odd/position_embedding.f32.bin
(the 26 x 32 float32 values, little-endian; committed: the Go test builds the variant from hf/
and this file). Run from testdata/cogvlm2-tiny with Debian's /usr/bin/python3:

    /usr/bin/python3 make_odd.py /tmp/cogvlm2-tiny-odd
"""
import json
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools", "reference"))
import cogvlm_ref as ref  # noqa: E402
import make_tiny  # noqa: E402

POS = "model.vision.patch_embedding.position_embedding.weight"


def main():
    out = sys.argv[1]
    src = os.path.join(HERE, "hf")
    cfg, W = ref.load_checkpoint(src)
    with open(os.path.join(src, "model.safetensors.index.json")) as f:
        order = list(json.load(f)["weight_map"])
    vc = cfg["vision_config"]
    vc["image_size"] = 70
    g = vc["image_size"] // vc["patch_size"]
    vc["num_positions"] = g * g + 1
    gen = torch.Generator().manual_seed(70)
    pos = 0.02 * torch.randn((vc["num_positions"], vc["hidden_size"]), generator=gen, dtype=torch.float32)
    W[POS] = pos.to(torch.bfloat16).to(torch.float32)
    with open(os.path.join(src, "generation_config.json")) as f:
        gen_cfg = json.load(f)
    make_tiny.write_checkpoint(out, cfg, W, "BF16", 2, order, gen_cfg=gen_cfg)
    os.makedirs(os.path.join(HERE, "odd"), exist_ok=True)
    W[POS].numpy().astype("<f4").tofile(os.path.join(HERE, "odd", "position_embedding.f32.bin"))
    print(f"wrote {out} ({g}x{g} grid) and odd/position_embedding.f32.bin")


if __name__ == "__main__":
    main()
