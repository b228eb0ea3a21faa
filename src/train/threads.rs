//! libtorch's thread count, set so that one training cannot change
//! another's.
//!
//! libtorch keeps the count per thread (OpenMP's and MKL's thread-local
//! settings), but each thread takes its first value, at its first ATen
//! call, from one process-wide number that every `set_num_threads` in the
//! process overwrites. A thread that set its count *before* its first ATen
//! call therefore ran with whatever another thread had set last: measured
//! here, a thread that set 2 and then computed ran at 1 once another
//! thread had set 1 in between (the fused pass sets 1 on every call).
//! [`use_here`] makes that first call before setting, so the count a
//! training asks for is the count it computes with. Every thread that
//! runs libtorch for a training goes through it: the trainer's, the
//! chunk loop's second thread, and the pass's restore.
//!
//! The stored bytes do not depend on the count either way (a run trained
//! at 1 and at 2 threads is byte-identical on the machines measured: the
//! fused pass runs at one libtorch thread and splits its own work in a
//! fixed way); what the count changes is speed, and on CPUs where a BLAS
//! kernel rounds differently with more threads, bits. Both are now each
//! training's own.

/// Sets libtorch's thread count for the calling thread only, after
/// libtorch has initialised this thread's count (so a later first call
/// cannot overwrite it with another thread's).
pub fn use_here(threads: usize) {
    // at::get_num_threads runs libtorch's once-per-thread initialisation.
    let _ = tch::get_num_threads();
    tch::set_num_threads(threads.clamp(1, i32::MAX as usize) as i32);
}

/// The calling thread's libtorch thread count (initialised first, as
/// [`use_here`] does).
pub fn here() -> usize {
    tch::get_num_threads().max(1) as usize
}

/// Sets the calling thread's count back when dropped.
pub struct Restore(usize);

impl Restore {
    /// Sets `threads` on this thread until the guard drops, then the count
    /// it had.
    pub fn set(threads: usize) -> Self {
        let old = here();
        use_here(threads);
        Self(old)
    }
}

impl Drop for Restore {
    fn drop(&mut self) {
        use_here(self.0);
    }
}
