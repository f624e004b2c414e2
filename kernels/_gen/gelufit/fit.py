"""Fit the polynomial G of the float32 GELU (kernels/gelu.go).

½·erfc(z) = e^(−z²)·G(s), s = t − c, t = 1/(1 + a·z), z ∈ [0, zmax]: G is a
polynomial of degree deg in s fitted to the relative error of ½·erfc(z)·e^(z²)
by Lawson's iteration (weighted least squares on Chebyshev nodes converging
to the minimax fit); the coefficients are rounded to float32 one at a time,
from the highest, refitting the lower ones after each. Prints the
coefficients (lowest first), the fit's relative error with them and the
float32 Horner evaluation's (fused steps simulated in float64).

Run with Debian's python3 and numpy: /usr/bin/python3 fit.py
"""
import argparse
import math

import numpy as np


def target(t, a):
    z = (1 / t - 1) / a
    return np.array([0.5 * math.erfc(v) * math.exp(v * v) for v in z])


def lawson(V, rhs, f, iters=80):
    w = np.ones(len(f))
    for _ in range(iters):
        W = np.sqrt(w) / f
        c, *_ = np.linalg.lstsq(V * W[:, None], rhs * W, rcond=None)
        err = (V @ c - rhs) / f
        w = w * np.abs(err)
        w /= w.sum()
    return c


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--a", type=float, default=0.365)
    ap.add_argument("--c", type=float, default=0.0)
    ap.add_argument("--deg", type=int, default=9)
    ap.add_argument("--zmax", type=float, default=9.3)
    args = ap.parse_args()
    a = float(np.float32(args.a))
    c0 = float(np.float32(args.c))
    deg = args.deg
    t0 = 1 / (1 + a * args.zmax)
    n = 4000
    k = np.arange(n)
    t = (t0 + 1) / 2 + (1 - t0) / 2 * np.cos(np.pi * (k + 0.5) / n)
    f = target(t, a)
    s = t - c0
    V = np.vander(s, deg + 1, increasing=True)
    fixed = {}
    for kk in range(deg, -1, -1):
        free = [j for j in range(deg + 1) if j not in fixed]
        rhs = f - sum(fixed[j] * s**j for j in fixed) if fixed else f.copy()
        c = lawson(V[:, free], rhs, f)
        fixed[kk] = float(np.float32(c[free.index(kk)]))
    coef = [fixed[j] for j in range(deg + 1)]
    tt = np.linspace(t0, 1, 400001)
    ff = target(tt, a)
    ss = (tt.astype(np.float32) - np.float32(c0)).astype(np.float64)
    exact = np.zeros_like(ss)
    horner = np.full(ss.shape, coef[-1], dtype=np.float32)
    for j in reversed(range(deg + 1)):
        exact = exact * ss + coef[j]
    for j in reversed(range(deg)):
        horner = (horner.astype(np.float64) * ss + coef[j]).astype(np.float32)
    print(f"a={a!r} c={c0!r} deg={deg}")
    print(f"fit with float32 coefficients: max relative error {np.abs(exact / ff - 1).max():.3g}")
    print(f"float32 Horner: max relative error {np.abs(horner / ff - 1).max():.3g}")
    for j, v in enumerate(coef):
        print(f"g{j} = {v!r}")


if __name__ == "__main__":
    main()
