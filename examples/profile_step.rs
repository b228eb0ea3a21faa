//! Times the parts of one training step on `add` (p = 113, defaults).
use grokscope::model::TransformerConfig;
use std::time::Instant;
use tch::{nn, nn::OptimizerConfig, Kind, Tensor};

fn time<F: FnMut()>(label: &str, reps: usize, mut f: F) -> f64 {
    f();
    let t = Instant::now();
    for _ in 0..reps {
        f();
    }
    let ms = t.elapsed().as_secs_f64() * 1000.0 / reps as f64;
    println!("{label:<40} {ms:8.2} ms");
    ms
}

fn main() {
    let threads: i32 = std::env::args()
        .nth(1)
        .map(|s| s.parse().unwrap())
        .unwrap_or(2);
    if std::env::args().nth(2).as_deref() == Some("batched") {
        tch::set_num_threads(threads);
        for s in [1usize, 2, 4, 8] {
            let cfg = TransformerConfig::for_order(113);
            let vs = nn::VarStore::new(tch::Device::Cpu);
            let seeds: Vec<u64> = (0..s as u64).collect();
            let model = cfg.init(&vs.root(), &seeds).unwrap();
            let mut opt = nn::AdamW {
                beta1: 0.9,
                beta2: 0.98,
                wd: 1.0,
                eps: 1e-8,
                amsgrad: false,
            }
            .build(&vs, 1e-3)
            .unwrap();
            let si = s as i64;
            let a = Tensor::randint(113, [si, 8939], (Kind::Int64, tch::Device::Cpu));
            let b = Tensor::randint(113, [si, 8939], (Kind::Int64, tch::Device::Cpu));
            let y = Tensor::randint(113, [si, 8939], (Kind::Int64, tch::Device::Cpu));
            let ms = time(&format!("S={s} threads={threads} full step"), 10, || {
                let l = model
                    .forward_last(&a, &b)
                    .unwrap()
                    .log_softmax(-1, Kind::Float)
                    .gather(-1, &y.unsqueeze(-1), false)
                    .mean(Kind::Float)
                    .neg();
                opt.zero_grad();
                l.backward();
                opt.step();
            });
            println!("    per seed {:.2} ms", ms / s as f64);
        }
        return;
    }
    if std::env::args().nth(2).as_deref() == Some("chunked") {
        tch::set_num_threads(threads);
        let cfg = TransformerConfig::for_order(113);
        let vs = nn::VarStore::new(tch::Device::Cpu);
        let model = cfg.init(&vs.root(), &[0]).unwrap();
        let mut opt = nn::AdamW {
            beta1: 0.9,
            beta2: 0.98,
            wd: 1.0,
            eps: 1e-8,
            amsgrad: false,
        }
        .build(&vs, 1e-3)
        .unwrap();
        let a = Tensor::randint(113, [1, 8939], (Kind::Int64, tch::Device::Cpu));
        let b = Tensor::randint(113, [1, 8939], (Kind::Int64, tch::Device::Cpu));
        let y = Tensor::randint(113, [1, 8939], (Kind::Int64, tch::Device::Cpu));
        for chunk in [8939i64, 4470, 2235, 1118, 512] {
            time(
                &format!("chunk {chunk} threads={threads} full step"),
                10,
                || {
                    opt.zero_grad();
                    let mut start = 0;
                    while start < 8939 {
                        let len = chunk.min(8939 - start);
                        let (ca, cb, cy) = (
                            a.narrow(1, start, len),
                            b.narrow(1, start, len),
                            y.narrow(1, start, len),
                        );
                        let l = model
                            .forward_last(&ca, &cb)
                            .unwrap()
                            .log_softmax(-1, Kind::Float)
                            .gather(-1, &cy.unsqueeze(-1), false)
                            .sum(Kind::Float)
                            .neg()
                            / 8939.0;
                        l.backward();
                        start += len;
                    }
                    opt.step();
                },
            );
        }
        return;
    }
    if std::env::args().nth(2).as_deref() == Some("variants") {
        tch::set_num_threads(2);
        variants();
        value_variants();
        return;
    }
    let threads: i32 = std::env::args()
        .nth(1)
        .map(|s| s.parse().unwrap())
        .unwrap_or(2);
    tch::set_num_threads(threads);
    let n = 113i64;
    let b = 8939i64;
    let cfg = TransformerConfig::for_order(n as usize);
    let vs = nn::VarStore::new(tch::Device::Cpu);
    let model = cfg.init(&vs.root(), &[0]).unwrap();
    let mut opt = nn::AdamW {
        beta1: 0.9,
        beta2: 0.98,
        wd: 1.0,
        eps: 1e-8,
        amsgrad: false,
    }
    .build(&vs, 1e-3)
    .unwrap();
    let a = Tensor::randint(n, [1, b], (Kind::Int64, tch::Device::Cpu));
    let bb = Tensor::randint(n, [1, b], (Kind::Int64, tch::Device::Cpu));
    let y = Tensor::randint(n, [1, b], (Kind::Int64, tch::Device::Cpu));
    let loss_of = |logits: &Tensor| {
        logits
            .log_softmax(-1, Kind::Float)
            .gather(-1, &y.unsqueeze(-1), false)
            .mean(Kind::Float)
            .neg()
    };
    time("forward_last", 20, || {
        let _ = tch::no_grad(|| model.forward_last(&a, &bb).unwrap());
    });
    time("forward_last + loss + backward", 20, || {
        let l = loss_of(&model.forward_last(&a, &bb).unwrap());
        opt.zero_grad();
        l.backward();
    });
    time("full step (with AdamW)", 20, || {
        let l = loss_of(&model.forward_last(&a, &bb).unwrap());
        opt.zero_grad();
        l.backward();
        opt.step();
    });
    time("AdamW step alone", 50, || opt.step());
    // The MLP + unembed part alone, on a leaf input.
    let x = Tensor::randn([1, b, 64], (Kind::Float, tch::Device::Cpu)).set_requires_grad(true);
    time("MLP+unembed fwd+bwd (leaf input)", 20, || {
        let pre = x.bmm(&model.w_in) + model.b_in.unsqueeze(1);
        let out = pre.relu().bmm(&model.w_out) + model.b_out.unsqueeze(1);
        let l = loss_of(&(&x + out).bmm(&model.w_u));
        opt.zero_grad();
        l.backward();
    });
}

/// Attention-output variants on random tables: [n, H, D] per position.
#[allow(dead_code)]
pub fn variants() {
    let (n, b, h, d) = (113i64, 8939i64, 4i64, 64i64);
    let opts = (Kind::Float, tch::Device::Cpu);
    let o0 = Tensor::randn([n, h, d], opts).set_requires_grad(true);
    let o1 = Tensor::randn([n, h, d], opts).set_requires_grad(true);
    let o2 = Tensor::randn([1, h, d], opts).set_requires_grad(true);
    let wlog = Tensor::randn([b, h, 3], opts).set_requires_grad(true);
    let a = Tensor::randint(n, [b], (Kind::Int64, tch::Device::Cpu));
    let bb = Tensor::randint(n, [b], (Kind::Int64, tch::Device::Cpu));
    let g = Tensor::randn([b, d], opts);
    let current = || {
        let w = wlog.softmax(-1, Kind::Float);
        let oa = o0.index_select(0, &a);
        let ob = o1.index_select(0, &bb);
        (w.narrow(-1, 0, 1) * oa + w.narrow(-1, 1, 1) * ob + w.narrow(-1, 2, 1) * &o2)
            .sum_dim_intlist(1, false, Kind::Float)
    };
    time("attn out: gather + broadcast mul (fwd+bwd)", 20, || {
        (current() * &g).sum(Kind::Float).backward();
    });
    // embedding_bag: one table [(2n+1)·H, D], 3H indices per example.
    let hs = Tensor::arange(h, (Kind::Int64, tch::Device::Cpu));
    let idx = Tensor::cat(
        &[
            (a.unsqueeze(1) * h + &hs).unsqueeze(2),
            (bb.unsqueeze(1) * h + &hs + n * h).unsqueeze(2),
            (hs.unsqueeze(0).expand([b, h], false) + 2 * n * h).unsqueeze(2),
        ],
        2,
    )
    .reshape([-1]); // [B·H·3] ordered (h, position) to match w [B, H, 3]
    let offsets = Tensor::arange_start_step(0, b * h * 3, h * 3, (Kind::Int64, tch::Device::Cpu));
    let bag = || {
        let w = wlog.softmax(-1, Kind::Float).reshape([-1]);
        let table = Tensor::cat(
            &[
                o0.reshape([-1, d]),
                o1.reshape([-1, d]),
                o2.reshape([-1, d]),
            ],
            0,
        );
        Tensor::embedding_bag(&table, &idx, &offsets, false, 0, false, Some(w), false).0
    };
    let d1 = (current() - bag()).abs().max();
    println!(
        "embedding_bag vs current max diff {}",
        f64::try_from(d1).unwrap()
    );
    time("attn out: embedding_bag (fwd+bwd)", 20, || {
        (bag() * &g).sum(Kind::Float).backward();
    });
    // bmm on gathered [B, 3H, D]
    let bmm = || {
        let w = wlog.softmax(-1, Kind::Float).reshape([b, 1, -1]);
        let table = Tensor::cat(
            &[
                o0.reshape([-1, d]),
                o1.reshape([-1, d]),
                o2.reshape([-1, d]),
            ],
            0,
        );
        w.bmm(&table.index_select(0, &idx).view([b, -1, d]))
            .squeeze_dim(1)
    };
    time("attn out: gather + bmm (fwd+bwd)", 20, || {
        (bmm() * &g).sum(Kind::Float).backward();
    });
    // MLP: mm vs bmm
    let x = Tensor::randn([b, 64], opts).set_requires_grad(true);
    let w1 = Tensor::randn([64, 256], opts).set_requires_grad(true);
    let w2 = Tensor::randn([256, 64], opts).set_requires_grad(true);
    let gy = Tensor::randn([b, 64], opts);
    time("MLP mm fwd+bwd", 20, || {
        ((x.mm(&w1).relu().mm(&w2)) * &gy)
            .sum(Kind::Float)
            .backward();
    });
    time("MLP bmm(S=1) fwd+bwd", 20, || {
        ((x.unsqueeze(0)
            .bmm(&w1.unsqueeze(0))
            .relu()
            .bmm(&w2.unsqueeze(0)))
        .squeeze_dim(0)
            * &gy)
            .sum(Kind::Float)
            .backward();
    });
    time("MLP matmul fwd only", 20, || {
        let _ = tch::no_grad(|| x.mm(&w1).relu().mm(&w2));
    });
}

/// Gather values (d_head wide) instead of OV outputs, then one W_O matmul.
#[allow(dead_code)]
pub fn value_variants() {
    let (n, b, h, dh, d) = (113i64, 8939i64, 4i64, 16i64, 64i64);
    let opts = (Kind::Float, tch::Device::Cpu);
    let v0 = Tensor::randn([n, h * dh], opts).set_requires_grad(true);
    let v1 = Tensor::randn([n, h * dh], opts).set_requires_grad(true);
    let v2 = Tensor::randn([1, h * dh], opts).set_requires_grad(true);
    let w_o = Tensor::randn([h * dh, d], opts).set_requires_grad(true);
    let wlog = Tensor::randn([b, h, 3], opts).set_requires_grad(true);
    let a = Tensor::randint(n, [b], (Kind::Int64, tch::Device::Cpu));
    let bb = Tensor::randint(n, [b], (Kind::Int64, tch::Device::Cpu));
    let g = Tensor::randn([b, d], opts);
    let gathered = || {
        let w = wlog.softmax(-1, Kind::Float); // [B, H, 3]
        let za = v0.index_select(0, &a).view([b, h, dh]);
        let zb = v1.index_select(0, &bb).view([b, h, dh]);
        let z = w.narrow(-1, 0, 1) * za
            + w.narrow(-1, 1, 1) * zb
            + w.narrow(-1, 2, 1) * v2.view([1, h, dh]);
        z.view([b, h * dh]).mm(&w_o)
    };
    time("values: gather + weight + W_O (fwd+bwd)", 20, || {
        (gathered() * &g).sum(Kind::Float).backward();
    });
    // embedding_bag with one bag per (example, head) over [(2n+1)·H, d_head]
    let hs = Tensor::arange(h, (Kind::Int64, tch::Device::Cpu));
    let idx = Tensor::stack(
        &[
            a.unsqueeze(1) * h + &hs,
            bb.unsqueeze(1) * h + &hs + n * h,
            hs.unsqueeze(0).expand([b, h], false) + 2 * n * h,
        ],
        2,
    )
    .reshape([-1]);
    let offsets = Tensor::arange_start_step(0, b * h * 3, 3, (Kind::Int64, tch::Device::Cpu));
    let bag = || {
        let w = wlog.softmax(-1, Kind::Float).reshape([-1]);
        let table = Tensor::cat(
            &[v0.view([-1, dh]), v1.view([-1, dh]), v2.view([-1, dh])],
            0,
        );
        let z = Tensor::embedding_bag(&table, &idx, &offsets, false, 0, false, Some(w), false).0; // [B·H, dh]
        z.view([b, h * dh]).mm(&w_o)
    };
    println!(
        "bag vs gathered {}",
        f64::try_from((gathered() - bag()).abs().max()).unwrap()
    );
    time("values: embedding_bag per head + W_O (fwd+bwd)", 20, || {
        (bag() * &g).sum(Kind::Float).backward();
    });
}
