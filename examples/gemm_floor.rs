//! GEMM rates at the fused step's shapes (a development aid).
use std::time::Instant;
use tch::{Kind, Tensor};

fn time(f: &dyn Fn() -> Tensor) -> f64 {
    let _ = f();
    let mut best = f64::MAX;
    for _ in 0..30 {
        let t = Instant::now();
        let _ = f();
        best = best.min(t.elapsed().as_secs_f64());
    }
    best
}

fn main() {
    grokscope::kernels::pin();
    tch::set_num_threads(1);
    let o = (Kind::Float, tch::Device::Cpu);
    for (b, n) in [(403i64, 24i64), (2867, 64)] {
        let post = Tensor::randn([1, b, 256], o);
        let w_out = Tensor::randn([1, 256, 64], o);
        let dr2 = Tensor::randn([1, b, 64], o);
        let flop = 2.0 * (b * 256 * 64) as f64;
        let fwd = time(&|| post.bmm(&w_out));
        let dpost = time(&|| dr2.bmm(&w_out.transpose(1, 2)));
        let dw = time(&|| post.transpose(1, 2).bmm(&dr2));
        let dw_c = time(&|| post.transpose(1, 2).contiguous().bmm(&dr2));
        let mm = time(&|| post.squeeze_dim(0).mm(&w_out.squeeze_dim(0)));
        println!("B {b} n {n}: post·W_out {:.3} ms ({:.0} GFLOP/s), dpost {:.3} ms ({:.0}), dW_out {:.3} ms ({:.0}), dW_out contiguous {:.3}, mm {:.3} ms",
            fwd*1e3, flop/fwd/1e9, dpost*1e3, flop/dpost/1e9, dw*1e3, flop/dw/1e9, dw_c*1e3, mm*1e3);
        let _ = n;
    }
}
