#!/usr/bin/env python3
"""Plain PyTorch eager baseline for `grokscope bench`.

The same 1-layer transformer (d_model 64, 4 heads, d_mlp 256, no LayerNorm,
causal attention over [a, b, =], logits at the last position), trained the
way one writes it in PyTorch: the whole sequence through an nn.Module,
full-batch AdamW (lr 1e-3, betas 0.9/0.98, wd 1), evaluation of the full
table every 10 epochs. Reads the training pairs grokscope wrote, trains for
--epochs after one warm-up epoch, and prints one JSON line with epochs/s.

Usage: .venv/bin/python scripts/bench_pytorch.py --n 113 --train FILE --epochs 100 --threads 2
"""
import argparse
import json
import math
import time

import torch
import torch.nn as nn


class Transformer(nn.Module):
    def __init__(self, n, d_model=64, n_heads=4, d_mlp=256):
        super().__init__()
        d_head = d_model // n_heads
        self.W_E = nn.Parameter(torch.randn(n + 1, d_model) / math.sqrt(d_model))
        self.W_pos = nn.Parameter(torch.randn(3, d_model) / math.sqrt(d_model))
        self.W_Q = nn.Parameter(torch.randn(n_heads, d_model, d_head) / math.sqrt(d_model))
        self.W_K = nn.Parameter(torch.randn(n_heads, d_model, d_head) / math.sqrt(d_model))
        self.W_V = nn.Parameter(torch.randn(n_heads, d_model, d_head) / math.sqrt(d_model))
        self.W_O = nn.Parameter(torch.randn(n_heads, d_head, d_model) / math.sqrt(d_model))
        self.W_in = nn.Parameter(torch.randn(d_model, d_mlp) / math.sqrt(d_model))
        self.b_in = nn.Parameter(torch.zeros(d_mlp))
        self.W_out = nn.Parameter(torch.randn(d_mlp, d_model) / math.sqrt(d_mlp))
        self.b_out = nn.Parameter(torch.zeros(d_model))
        self.W_U = nn.Parameter(torch.randn(d_model, n) / math.sqrt(d_model))
        self.register_buffer("mask", torch.triu(torch.ones(3, 3, dtype=torch.bool), diagonal=1))

    def forward(self, tokens):
        x = self.W_E[tokens] + self.W_pos
        q = torch.einsum("bpd,hde->bhpe", x, self.W_Q)
        k = torch.einsum("bpd,hde->bhpe", x, self.W_K)
        v = torch.einsum("bpd,hde->bhpe", x, self.W_V)
        scores = (q @ k.transpose(-1, -2)) / math.sqrt(q.shape[-1])
        pattern = scores.masked_fill(self.mask, float("-inf")).softmax(-1)
        x = x + torch.einsum("bhpe,hed->bpd", pattern @ v, self.W_O)
        x = x + torch.relu(x @ self.W_in + self.b_in) @ self.W_out + self.b_out
        return (x @ self.W_U)[:, -1, :]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, required=True)
    ap.add_argument("--train", required=True, help="file with one training pair index a*n+b per line")
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    n = args.n
    pairs = torch.arange(n * n)
    tokens = torch.stack([pairs // n, pairs % n, torch.full_like(pairs, n)], dim=1)
    labels = (pairs // n + pairs % n) % n
    train = torch.tensor([int(line) for line in open(args.train)])
    model = Transformer(n)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.98), weight_decay=1.0)

    def epoch(e):
        loss = nn.functional.cross_entropy(model(tokens[train]), labels[train])
        opt.zero_grad()
        loss.backward()
        opt.step()
        if e % 10 == 0:
            with torch.no_grad():
                model(tokens).argmax(-1).eq(labels)

    epoch(1)  # warm-up
    start = time.perf_counter()
    for e in range(args.epochs):
        epoch(e)
    seconds = time.perf_counter() - start
    print(json.dumps({"epochs": args.epochs, "seconds": seconds, "epochs_per_s": args.epochs / seconds}))


if __name__ == "__main__":
    main()
