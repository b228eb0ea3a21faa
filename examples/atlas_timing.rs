//! Where an epoch goes at atlas orders, alone and batched (a development aid).
use grokscope::bench::breakdown_of;

fn main() {
    grokscope::kernels::pin();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let threads: usize = args.first().and_then(|s| s.parse().ok()).unwrap_or(1);
    let only: Option<usize> = args.get(1).and_then(|s| s.parse().ok());
    let sizes: Vec<usize> = match args.get(2) {
        Some(s) => vec![s.parse().unwrap()],
        None => vec![1, 3, 8, 16],
    };
    for (order, count) in [(24usize, 15usize), (64, 267)] {
        if only.is_some_and(|o| o != order) {
            continue;
        }
        for &s in &sizes {
            let ops: Vec<String> = (0..s)
                .map(|i| format!("smallgroup:{order},{}", 1 + i % count))
                .collect();
            let refs: Vec<&str> = ops.iter().map(String::as_str).collect();
            let b = breakdown_of(
                &refs,
                threads,
                if only.is_some() {
                    200
                } else if order > 32 {
                    10
                } else {
                    40
                },
            )
            .unwrap();
            println!(
                "order {order:2} S {s:2}: {:7.2} ms/epoch  {:6.2} ms/model  tables {:.2} fwd {:.2} bwd {:.2} adam {:.2} eval {:.2}",
                b.total(), b.total() / s as f64, b.tables, b.forward, b.backward, b.optimizer, b.eval_share
            );
        }
    }
}
