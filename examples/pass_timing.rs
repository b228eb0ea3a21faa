//! Times the fused pass on `add` at several chunk sizes (a development aid).
use grokscope::data::Dataset;
use grokscope::groups::Operation;
use grokscope::model::TransformerConfig;
use grokscope::train::fused::{pass, Chunk};
use std::time::Instant;
use tch::Tensor;

fn main() {
    grokscope::kernels::pin();
    let threads: i32 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(2);
    tch::set_num_threads(threads);
    let op = Operation::parse("add").unwrap();
    let d = Dataset::new(&op, 0.7, 0).unwrap();
    let a: Vec<i64> = d.train.iter().map(|&p| (p / d.n) as i64).collect();
    let b: Vec<i64> = d.train.iter().map(|&p| (p % d.n) as i64).collect();
    let y: Vec<i64> = d.train.iter().map(|&p| d.labels[p] as i64).collect();
    let t = |v: &[i64]| Tensor::from_slice(v).view([1, -1]);
    let (ta, tb, ty) = (t(&a), t(&b), t(&y));
    let vs = tch::nn::VarStore::new(tch::Device::Cpu);
    let m = TransformerConfig::for_order(113)
        .init(&vs.root(), &[0])
        .unwrap();
    for rows in [512, 1024, 2048, 4096, 9000] {
        let ch = Chunk::split(&ta, &tb, &ty, 113, rows).unwrap();
        for backward in [false, true] {
            pass(&m, &ch, ta.size()[1], backward, Default::default()).unwrap();
            let mut best = f64::MAX;
            for _ in 0..30 {
                let start = Instant::now();
                pass(&m, &ch, ta.size()[1], backward, Default::default()).unwrap();
                best = best.min(start.elapsed().as_secs_f64() * 1e3);
            }
            println!("rows {rows:5} backward {backward}: min {best:.2} ms");
        }
    }
}
