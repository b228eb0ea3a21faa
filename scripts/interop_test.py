"""The TransformerLens round trip, against the real library (`make test-interop`).

1. grokscope -> TransformerLens: trains a short run for each architecture
   option grokscope trains with, exports it (`grokscope export --to
   transformer-lens`), loads it as a HookedTransformer and compares its
   logits on every pair, at every position, with grokscope's own forward
   pass (the export's reference_logits.safetensors) to 1e-5 of the
   largest |logit| (absolute below 1; float32 sums taken in another order
   differ by ~1e-7 of the scale).
2. Export refuses what it cannot represent (a StableMax run without
   --allow-stablemax, a run that is not complete, an existing directory).
3. TransformerLens -> grokscope: builds HookedTransformers with random
   weights (with and without LayerNorm, a nonzero b_K), saves them, imports
   them with `grokscope analyze --import`, and compares grokscope's logits
   with TransformerLens' to the same tolerance; a nonzero b_U, two layers, GELU and a
   vocabulary that does not fit the operation are refused with one line.

Usage: python scripts/interop_test.py path/to/grokscope
"""
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from transformer_lens import HookedTransformer, HookedTransformerConfig

TOL = 1e-5
BIN = Path(sys.argv[1]).resolve()
failures = []


def run(*args, ok=True):
    p = subprocess.run([str(BIN), *map(str, args)], capture_output=True, text=True)
    if ok and p.returncode != 0:
        raise SystemExit(f"grokscope {' '.join(map(str, args))} failed:\n{p.stderr}")
    return p


def expect(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def train(runs, op, *sets, epochs=300):
    sets = ["--set", f"epochs={epochs}", "--set", "threads=1", "--set", "checkpoint_every=100"] + [
        x for s in sets for x in ("--set", s)
    ]
    def run_dirs():
        return {d for d in runs.iterdir() if (d / "manifest.json").exists()} if runs.exists() else set()

    before = run_dirs()
    run("train", "--op", op, "--out", runs, *sets)
    (new,) = run_dirs() - before
    return new


def tl_load(directory):
    sys.path.insert(0, str(directory))
    try:
        import load as loader  # the export's own load.py
        model, info = loader.load(directory)
        return model, info, loader
    finally:
        sys.path.pop(0)
        sys.modules.pop("load", None)


def export_round_trip(tmp):
    runs = tmp / "runs"
    cases = [
        ("s3, defaults", "s3", []),
        ("a4, LayerNorm", "a4", ["layer_norm=true"]),
        ("add:11, frozen biases, TransformerLens init", "add:11", ["freeze_biases=true", "init=transformer_lens"]),
        ("d5, 2 heads of 32, d_mlp 128", "d5", ["n_heads=2", "d_mlp=128"]),
        ("smallgroup:24,12, float64 loss", "smallgroup:24,12", ["loss_precision=f64"]),
    ]
    for label, op, sets in cases:
        r = train(runs, op, *sets)
        out = tmp / f"tl-{r.name}"
        run("export", r, "--to", "transformer-lens", "--out", out)
        model, info, loader = tl_load(out)
        diff = loader.check(model, out, tol=float("inf"))
        ref = load_file(out / "reference_logits.safetensors")
        scale = ref["logits"].abs().max().item()
        expect(diff <= TOL, f"export {label}: TransformerLens logits equal grokscope's on all {info['order']**2} pairs, "
               f"every position (max |diff| {diff * max(1, scale):.2e}, max |logit| {scale:.1f})")
        n = info["order"]
        toks = torch.tensor([[a, b, n] for a in range(n) for b in range(n)])
        _, cache = model.run_with_cache(toks)
        expect(tuple(cache["blocks.0.attn.hook_pattern"].shape) == (n * n, model.cfg.n_heads, 3, 3),
               f"export {label}: run_with_cache gives attention patterns [pairs, heads, 3, 3]")
    # a checkpoint of the last case's run
    out = tmp / "tl-epoch100"
    run("export", r, "--to", "transformer-lens", "--epoch", 100, "--out", out)
    model, info, loader = tl_load(out)
    expect(info["epoch"] == 100 and loader.check(model, out) <= TOL, "export --epoch 100: the checkpoint loads with equal logits")

    # refusals
    sm = train(runs, "s3", "softmax=stablemax", epochs=50)
    p = run("export", sm, "--to", "transformer-lens", "--out", tmp / "tl-sm", ok=False)
    expect(p.returncode != 0 and len(p.stderr.strip().splitlines()) == 1 and "StableMax" in p.stderr
           and not (tmp / "tl-sm").exists(), "export refuses a StableMax run in one line and writes nothing")
    run("export", sm, "--to", "transformer-lens", "--out", tmp / "tl-sm", "--allow-stablemax")
    model, _, loader = tl_load(tmp / "tl-sm")
    expect(loader.check(model, tmp / "tl-sm") <= TOL, "export --allow-stablemax: the logits are equal")
    p = run("export", sm, "--to", "transformer-lens", "--out", tmp / "tl-sm", "--allow-stablemax", ok=False)
    expect(p.returncode != 0 and "already exists" in p.stderr and len(p.stderr.strip().splitlines()) == 1,
           "export refuses an existing directory in one line")
    p = run("export", sm, "--to", "transformer-lens", "--epoch", 7, "--out", tmp / "tl-7", ok=False)
    expect(p.returncode != 0 and "no checkpoint at epoch 7" in p.stderr, "export refuses a missing checkpoint in one line")


def tl_model(n, normalization_type, seed, **over):
    cfg = dict(n_layers=1, d_model=32, d_head=8, n_heads=4, d_mlp=64, d_vocab=n + 1, d_vocab_out=n, n_ctx=3,
               act_fn="relu", normalization_type=normalization_type, seed=seed)
    cfg.update(over)
    model = HookedTransformer(HookedTransformerConfig(**cfg))
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith(("b_Q", "b_V", "b_O", "b_U")):
                continue  # grokscope's model has none: they stay zero
            fan_in = p.shape[-2] if p.dim() >= 2 else cfg["d_model"]
            sd = 0.3 if name.endswith((".w", ".b", "b_K", "b_in", "b_out")) else fan_in ** -0.5
            p.copy_(torch.randn(p.shape, generator=g) * sd + (1.0 if name.endswith(".w") else 0.0))
    return model, cfg


def save_tl(model, cfg, directory):
    directory.mkdir(parents=True)
    (directory / "config.json").write_text(json.dumps({k: v for k, v in cfg.items() if k != "seed"}))
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, directory / "model.safetensors")


def import_round_trip(tmp):
    for label, op, n, norm in [("add:13, no LayerNorm", "add:13", 13, None), ("s4, LayerNorm", "s4", 24, "LN")]:
        model, cfg = tl_model(n, norm, seed=n)
        d = tmp / f"import-{n}"
        save_tl(model, cfg, d)
        toks = torch.tensor([[a, b, n] for a in range(n) for b in range(n)])
        with torch.no_grad():
            tl_logits = model(toks)[:, -1, :]
        p = run("analyze", "--import", d, "--op", op)
        ours = load_file(d / "analysis" / "logits.safetensors")["logits"]
        diff = (ours - tl_logits).abs().max().item()
        scale = tl_logits.abs().max().item()
        summary = json.loads((d / "analysis" / "summary.json").read_text())
        expect(diff <= TOL * max(1, scale), f"import {label}: grokscope's logits equal TransformerLens' on all {n*n} pairs "
               f"(max |diff| {diff:.2e}, max |logit| {scale:.1f})")
        expect("b_K" in " ".join(summary["import_notes"]) and (d / "analysis" / "spectra.parquet").exists(),
               f"import {label}: analysed (dominant irrep {summary['dominant_irrep']}), the nonzero b_K dropped and said so")

    def refused(label, op, n, needle, **over):
        model, cfg = tl_model(n, None, seed=1, **over)
        if label.startswith("nonzero b_U"):
            with torch.no_grad():
                model.unembed.b_U.add_(0.1)
        d = tmp / f"refuse-{len(list(tmp.iterdir()))}"
        save_tl(model, cfg, d)
        p = run("analyze", "--import", d, "--op", op, ok=False)
        line = p.stderr.strip()
        expect(p.returncode != 0 and len(line.splitlines()) == 1 and needle in line and not (d / "analysis").exists(),
               f"import refuses {label} in one line: {line}")

    refused("nonzero b_U", "add:7", 7, "b_U is nonzero")
    refused("two layers", "add:7", 7, "n_layers is 2", n_layers=2)
    refused("GELU", "add:7", 7, "act_fn", act_fn="gelu")
    refused("a vocabulary for another order", "add:11", 7, "do not fit")


def main():
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        t0 = time.time()
        export_round_trip(tmp)
        t1 = time.time()
        import_round_trip(tmp)
        t2 = time.time()
    print(f"export round trip {t1 - t0:.0f} s, import round trip {t2 - t1:.0f} s")
    if failures:
        raise SystemExit(f"{len(failures)} check(s) failed")
    print("TransformerLens round trip: every check passed")


if __name__ == "__main__":
    main()
