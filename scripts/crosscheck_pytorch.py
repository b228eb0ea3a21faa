#!/usr/bin/env python3
"""Independent PyTorch implementation of grokscope's 1-layer transformer.

Loads a run's weights (safetensors, TransformerLens names), runs the plain
forward pass on every pair [a, b, =] of the table, and writes the logits at
the last position to OUT as safetensors (tensor "logits", [n*n, n], pair
a*n + b). tests/model_equivalence.rs compares them with grokscope's to 1e-5.

Usage: .venv/bin/python scripts/crosscheck_pytorch.py WEIGHTS CONFIG_JSON OUT
  CONFIG_JSON is the run's config.json (for layer_norm and sizes).
"""
import json
import math
import sys

import torch
from safetensors.torch import load_file, save_file


def layer_norm(x, w, b):
    x = x - x.mean(-1, keepdim=True)
    return x / torch.sqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * w + b


def forward(p, tokens, layer_norm_on):
    """TransformerLens semantics: causal attention, no attention biases."""
    resid = p["embed.W_E"][tokens] + p["pos_embed.W_pos"]  # [B, P, D]
    ln = (lambda x, name: layer_norm(x, p[name + ".w"], p[name + ".b"])) if layer_norm_on else (lambda x, name: x)
    x = ln(resid, "blocks.0.ln1")
    q = torch.einsum("bpd,hde->bphe", x, p["blocks.0.attn.W_Q"])
    k = torch.einsum("bpd,hde->bphe", x, p["blocks.0.attn.W_K"])
    v = torch.einsum("bpd,hde->bphe", x, p["blocks.0.attn.W_V"])
    scores = torch.einsum("bqhe,bkhe->bhqk", q, k) / math.sqrt(q.shape[-1])
    n_ctx = tokens.shape[1]
    mask = torch.triu(torch.ones(n_ctx, n_ctx, dtype=torch.bool), diagonal=1)
    pattern = scores.masked_fill(mask, float("-inf")).softmax(-1)
    z = torch.einsum("bhqk,bkhe->bqhe", pattern, v)
    resid = resid + torch.einsum("bqhe,hed->bqd", z, p["blocks.0.attn.W_O"])
    pre = ln(resid, "blocks.0.ln2") @ p["blocks.0.mlp.W_in"] + p["blocks.0.mlp.b_in"]
    resid = resid + torch.relu(pre) @ p["blocks.0.mlp.W_out"] + p["blocks.0.mlp.b_out"]
    return ln(resid, "ln_final") @ p["unembed.W_U"]


def main():
    weights, config, out = sys.argv[1:4]
    cfg = json.load(open(config))
    p = load_file(weights)
    n = p["unembed.W_U"].shape[1]
    a = torch.arange(n).repeat_interleave(n)
    b = torch.arange(n).repeat(n)
    tokens = torch.stack([a, b, torch.full_like(a, n)], dim=1)
    with torch.no_grad():
        logits = forward(p, tokens, cfg.get("layer_norm", False))[:, -1, :]
    save_file({"logits": logits.contiguous()}, out)


if __name__ == "__main__":
    main()
