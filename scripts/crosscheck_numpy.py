#!/usr/bin/env python3
"""Independent numpy recomputation of grokscope's analysis numbers.

Reads, from DIR (written by tests/numpy_crosscheck.rs):
  fourier.txt   rows of a function Z/n -> R^d
  pw.txt        rows of a function G -> R^d, in group element order
  group.json    `grokscope group <op> --json` (character table, table, classes)
  cka_x.txt, cka_y.txt   row-paired matrices
and writes DIR/numpy.json with the Fourier shares, the Peter-Weyl shares
(projectors built from the printed characters alone), and linear, debiased
linear and RBF CKA. Nothing here imports grokscope.

Usage: .venv/bin/python scripts/crosscheck_numpy.py DIR
"""
import json
import sys

import numpy as np


def fourier_shares(e):
    e = e - e.mean(axis=0)
    n = e.shape[0]
    p = (np.abs(np.fft.fft(e, axis=0)) ** 2).sum(axis=1)
    merged = [p[k] if 2 * k == n else p[k] + p[n - k] for k in range(1, n // 2 + 1)]
    merged = np.array(merged)
    return merged / merged.sum()


def peter_weyl_shares(f, group):
    table = np.array(group["table"])
    n = table.shape[0]
    identity = next(e for e in range(n) if (table[e] == np.arange(n)).all())
    inverse = np.array([int(np.where(table[x] == identity)[0][0]) for x in range(n)])
    cls = np.array(group["class_of"])
    nu = {"real": 1, "complex": 2, "quaternionic": 4}
    shares = {}
    for irrep in group["real_irreps"]:
        chi = np.array(irrep["character"])
        if irrep["real_dim"] == 1 and np.allclose(chi, 1.0):
            continue  # the trivial component is the mean
        # Central idempotent: P[x, y] = d / (nu |G|) chi(x y^-1)
        c = irrep["real_dim"] / (nu[irrep["type"]] * n)
        P = c * chi[cls[table[np.arange(n)[:, None], inverse[None, :]]]]
        shares[irrep["name"]] = float(np.sum((P @ f) ** 2))
    total = sum(shares.values())
    return {k: v / total for k, v in shares.items()}


def centre(k):
    n = k.shape[0]
    h = np.eye(n) - np.ones((n, n)) / n
    return h @ k @ h


def cka_biased(k, l):
    kc, lc = centre(k), centre(l)
    return float(np.sum(kc * lc) / np.sqrt(np.sum(kc * kc) * np.sum(lc * lc)))


def hsic_unbiased(k, l):
    n = k.shape[0]
    k, l = k.copy(), l.copy()
    np.fill_diagonal(k, 0.0)
    np.fill_diagonal(l, 0.0)
    t1 = np.trace(k @ l)
    t2 = k.sum() * l.sum() / ((n - 1) * (n - 2))
    t3 = 2.0 * k.sum(axis=0) @ l.sum(axis=0) / (n - 2)
    return (t1 + t2 - t3) / (n * (n - 3))


def rbf(x, factor=1.0):
    d2 = ((x[:, None, :] - x[None, :, :]) ** 2).sum(-1)
    iu = np.triu_indices(x.shape[0], 1)
    sigma = factor * np.median(np.sqrt(d2[iu]))
    return np.exp(-d2 / (2 * sigma**2))


def main():
    d = sys.argv[1]
    load = lambda name: np.loadtxt(f"{d}/{name}", ndmin=2)
    group = json.load(open(f"{d}/group.json"))
    x, y = load("cka_x.txt"), load("cka_y.txt")
    kx, ky = x @ x.T, y @ y.T
    out = {
        "fourier_shares": fourier_shares(load("fourier.txt")).tolist(),
        "peter_weyl_shares": peter_weyl_shares(load("pw.txt"), group),
        "cka_linear": cka_biased(kx, ky),
        "cka_debiased": float(hsic_unbiased(kx, ky) / np.sqrt(hsic_unbiased(kx, kx) * hsic_unbiased(ky, ky))),
        "cka_rbf": cka_biased(rbf(x), rbf(y)),
    }
    json.dump(out, open(f"{d}/numpy.json", "w"))


if __name__ == "__main__":
    main()
