//! libtorch's thread count and the trainer: the mechanism that let one
//! training's thread count leak into another's in the same process, and
//! `train::threads::use_here`, which closes it. One file, one process, so
//! no other test writes libtorch's process-wide count meanwhile.
#![cfg(feature = "torch")]

use grokscope::train::threads::{here, use_here};
use std::sync::{Arc, Barrier};

/// A thread sets its count with `set`, another thread sets 1, then the
/// first computes: the count it computes with.
fn count_after_another_sets_one(set: fn(usize)) -> usize {
    grokscope::kernels::pin();
    let barrier = Arc::new(Barrier::new(2));
    let b = Arc::clone(&barrier);
    let first = std::thread::spawn(move || {
        set(2);
        b.wait(); // the other thread sets 1
        b.wait();
        let _ = tch::Tensor::from_slice(&[1f32, 2.0]).sum(tch::Kind::Float);
        here()
    });
    barrier.wait();
    use_here(1);
    barrier.wait();
    first.join().unwrap()
}

#[test]
fn a_thread_count_is_the_threads_own() {
    // The mechanism: libtorch's own setter, called before the thread's
    // first ATen call, is overwritten at that call by the process-wide
    // value another thread wrote since.
    let plain = |n: usize| tch::set_num_threads(n as i32);
    assert_eq!(count_after_another_sets_one(plain), 1);
    // The trainer's setter keeps the thread's own count, every time.
    for _ in 0..20 {
        assert_eq!(count_after_another_sets_one(use_here), 2);
    }
}
