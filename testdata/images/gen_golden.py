#!/usr/bin/python3
"""Regenerate the model/imageproc fixtures in this directory with Pillow.

Usage (Debian bookworm: python3-pil 9.4.0, python3-numpy 1.24.2; see
testdata/README.md, section "images", for where the photographs come from):

    /usr/bin/python3 testdata/images/gen_golden.py SRCROOT [--external OUTDIR]

SRCROOT is a directory into which python3-skimage_0.19.3-8_all.deb and
python-matplotlib-data_3.6.3-1_all.deb were extracted with dpkg-deb -x.
With --external, Pillow's decodes of the full-size JPEG photos are also
written to OUTDIR (not committed; read by TestJPEGDecodeExternal when
IMAGEPROC_EXTERNAL=OUTDIR).

Everything the Go tests compare against is computed here by Pillow/numpy,
never by the Go code.
"""
import hashlib
import io
import json
import os
import shutil
import sys

import numpy as np
from PIL import Image, ImageOps

HERE = os.path.dirname(os.path.abspath(__file__))
SK = "usr/lib/python3/dist-packages/skimage/data"
MPL = "usr/share/matplotlib/mpl-data/sample_data"
CLIP_MEAN = np.array([0.48145466, 0.4578275, 0.40821073], dtype=np.float32)
CLIP_STD = np.array([0.26862954, 0.26130258, 0.27577711], dtype=np.float32)


def out(name):
    return os.path.join(HERE, name)


def save_png(im, name):
    im.save(out(name), "PNG", optimize=True)


def raw(im):
    assert im.mode == "RGB"
    return im.tobytes()


def sha(b):
    return hashlib.sha256(b).hexdigest()


def tile(im, nx, ny):
    w, h = im.size
    t = Image.new("RGB", (w * nx, h * ny))
    for j in range(ny):
        for i in range(nx):
            t.paste(im, (i * w, j * h))
    return t


def main():
    src = sys.argv[1]
    external = None
    if "--external" in sys.argv:
        external = sys.argv[sys.argv.index("--external") + 1]

    # 1. Real photographs, the inputs of the exact resize tests. New crops are
    #    256x192 (4x4 tiles make the 1024x768 of the benchmark); the JPEG
    #    photo is decoded by Pillow first, so Go reads Pillow's RGB.
    photos = {
        "coffee": (os.path.join(src, SK, "coffee.png"), (172, 104, 428, 296)),
        "astronaut": (os.path.join(src, SK, "astronaut.png"), (128, 40, 384, 232)),
        "rocket": (os.path.join(src, SK, "rocket.jpg"), (192, 117, 448, 309)),
    }
    # chelsea.png (451x300) is the file the cogvlm-tiny goldens use, already
    # here unchanged from python3-skimage; it is read, not rewritten.
    inputs = {"chelsea.png": Image.open(out("chelsea.png")).convert("RGB")}
    for name, (path, box) in photos.items():
        im = Image.open(path).convert("RGB").crop(box)
        save_png(im, "photo_%s.png" % name)
        inputs["photo_%s.png" % name] = im
    # camera.png (512x512, mode L) is copied as is: the gray path and a real
    # downscale to 490.
    shutil.copyfile(os.path.join(src, SK, "camera.png"), out("photo_camera.png"))
    inputs["photo_camera.png"] = Image.open(out("photo_camera.png")).convert("RGB")

    # 2. Pillow's resize of each: small outputs stored as PNG (max-diff
    #    reported by the test), large ones as SHA-256 of the raw RGB.
    cases = []

    def case(inp, im, w, h, crop=None, tiles=None, png=None):
        r = im.resize((w, h), Image.BICUBIC)
        c = {"input": inp, "w": w, "h": h, "sha256": sha(raw(r))}
        if crop:
            c["crop"] = list(crop)
        if tiles:
            c["tiles"] = list(tiles)
        if png:
            save_png(r, png)
            c["png"] = png
        cases.append(c)
        return r

    for inp, im in inputs.items():
        stem = inp[:-len(".png")].replace("photo_", "")
        case(inp, im, 490, 490)
        case(inp, im, 224, 224)
        case(inp, im, 56, 56, png="resize_%s_56.png" % stem)
        case(inp, im, 97, 311)
        if im.size == (256, 192):
            case(inp, tile(im, 4, 4), 490, 490, tiles=(4, 4))  # 1024x768
        elif im.size == (451, 300):
            case(inp, tile(im, 3, 3), 490, 490, tiles=(3, 3))  # 1353x900
    # Upscale from a small crop.
    ch = inputs["chelsea.png"]
    box = (10, 20, 50, 50)
    small = ch.crop(box)
    case("chelsea.png", small, 56, 56, crop=box, png="resize_chelsea_crop40x30_56.png")
    case("chelsea.png", small, 490, 490, crop=box)
    case("chelsea.png", small, 41, 30, crop=box)  # width only
    case("chelsea.png", small, 40, 7, crop=box)  # height only

    # 3. Normalised pixels: torchvision's ToTensor + Normalize in float32.
    r = ch.resize((56, 56), Image.BICUBIC)
    a = np.asarray(r).astype(np.float32) / np.float32(255)
    a = (a - CLIP_MEAN) / CLIP_STD
    a = np.ascontiguousarray(a.transpose(2, 0, 1)).astype("<f4")
    with open(out("normalize_chelsea_56.f32"), "wb") as f:
        f.write(a.tobytes())

    # 4. convert("RGB") of the other PNG/GIF/WebP modes: exact.
    base = ch.crop((60, 40, 93, 65))  # 33x25
    alpha = Image.linear_gradient("L").resize(base.size)
    fmts = []

    def fmt(name, im, **kw):
        fmt_bytes = io.BytesIO()
        im.save(fmt_bytes, **kw)
        with open(out(name), "wb") as f:
            f.write(fmt_bytes.getvalue())
        back = Image.open(out(name))
        fmts.append({"file": name, "mode": back.mode, "w": back.size[0], "h": back.size[1],
                     "rgb_sha256": sha(raw(back.convert("RGB")))})

    fmt("fmt_l.png", base.convert("L"), format="PNG")
    la = base.convert("L")
    la.putalpha(alpha)
    fmt("fmt_la.png", la, format="PNG")
    rgba = base.copy()
    rgba.putalpha(alpha)
    fmt("fmt_rgba.png", rgba, format="PNG")
    p = base.quantize(64)
    fmt("fmt_p.png", p, format="PNG", transparency=5)
    fmt("fmt_p.gif", p, format="GIF", transparency=5)
    fmt("fmt_rgb.webp", base, format="WEBP", lossless=True)
    fmt("fmt_rgba.webp", rgba, format="WEBP", lossless=True, exact=True)
    # Lossy WebP: libwebp's fancy upsampling and limited-range YUV, odd and
    # even sizes, with and without alpha.
    fmt("fmt_lossy.webp", base, format="WEBP", quality=80)
    fmt("fmt_lossy_even.webp", ch.crop((60, 40, 94, 66)), format="WEBP", quality=80)
    fmt("fmt_lossy_alpha.webp", rgba, format="WEBP", quality=80)

    # 5. JPEG decoding vs Pillow/libjpeg-turbo (tolerance tests): small
    #    crops in each chroma layout, progressive, gray, CMYK, odd sizes.
    rocket = Image.open(os.path.join(src, SK, "rocket.jpg")).convert("RGB").crop((300, 200, 367, 245))
    grace = Image.open(os.path.join(src, MPL, "grace_hopper.jpg")).convert("RGB").crop((200, 150, 267, 195))
    jpegs = []

    def jpg(name, im, **kw):
        im.save(out(name), "JPEG", **kw)
        back = Image.open(out(name)).convert("RGB")
        with open(out(name + ".pillow.rgb"), "wb") as f:
            f.write(raw(back))
        jpegs.append({"file": name, "w": back.size[0], "h": back.size[1]})

    jpg("jpeg_rocket_444.jpg", rocket, quality=90, subsampling=0)
    jpg("jpeg_rocket_422.jpg", rocket, quality=90, subsampling=1)
    jpg("jpeg_rocket_420.jpg", rocket, quality=90, subsampling=2)
    jpg("jpeg_grace_420.jpg", grace, quality=85, subsampling=2)
    jpg("jpeg_grace_420_prog.jpg", grace, quality=85, subsampling=2, progressive=True)
    jpg("jpeg_grace_gray.jpg", grace.convert("L"), quality=90)
    jpg("jpeg_grace_cmyk.jpg", grace.convert("CMYK"), quality=90)

    # 6. EXIF orientation: one 4:4:4 JPEG per orientation; the golden is
    #    ImageOps.exif_transpose of Pillow's decode.
    orients = []
    for o in range(1, 9):
        name = "orient_%d.jpg" % o
        exif = Image.Exif()
        exif[0x0112] = o
        rocket.save(out(name), "JPEG", quality=95, subsampling=0, exif=exif.tobytes())
        t = ImageOps.exif_transpose(Image.open(out(name))).convert("RGB")
        with open(out(name + ".pillow.rgb"), "wb") as f:
            f.write(raw(t))
        orients.append({"file": name, "orientation": o, "w": t.size[0], "h": t.size[1]})

    with open(out("golden.json"), "w") as f:
        json.dump({"pillow": Image.__version__, "numpy": np.__version__, "resize": cases,
                   "formats": fmts, "jpeg": jpegs, "orientation": orients}, f, indent=1)
        f.write("\n")

    if external:
        os.makedirs(external, exist_ok=True)
        for path in [os.path.join(src, SK, "rocket.jpg"), os.path.join(src, SK, "hubble_deep_field.jpg"),
                     os.path.join(src, SK, "retina.jpg"), os.path.join(src, MPL, "grace_hopper.jpg")]:
            dst = os.path.join(external, os.path.basename(path))
            shutil.copyfile(path, dst)
            with open(dst + ".pillow.rgb", "wb") as f:
                f.write(raw(Image.open(path).convert("RGB")))


if __name__ == "__main__":
    main()
