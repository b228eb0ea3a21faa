//! The dataset of an operation: every pair `(a, b) -> a ∘ b` as tokens
//! `[a, b, =]`, split into train and test by a seeded permutation.
//!
//! Pair `p` is `(a, b) = (p / n, p % n)`; its label is `table[p]`. The `=`
//! token is `n`, so the vocabulary has n + 1 tokens and the outputs n.
//!
//! ```
//! use grokscope::{data::Dataset, groups::Operation};
//! let op = Operation::parse("add:7").unwrap();
//! let ds = Dataset::new(&op, 0.7, 0).unwrap();
//! assert_eq!(ds.train.len() + ds.test.len(), 49);
//! assert_eq!(ds.tokens(10), [1, 3, 7]); // 1 + 3 = 4, with "=" = 7
//! ```

use crate::groups::Operation;
use crate::rng::SplitMix64;
use sha2::{Digest, Sha256};

/// Bad dataset parameters.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DataError {
    /// The training fraction is not in (0, 1).
    #[error("training fraction {0} is outside (0, 1); use a value such as 0.7")]
    TrainFraction(f64),
    /// The fraction is valid but leaves one side empty for this table.
    #[error("training fraction {fraction} gives {train} training pairs out of {total}; both train and test need at least one pair")]
    EmptySplit {
        /// The requested fraction.
        fraction: f64,
        /// Training pairs it gives.
        train: usize,
        /// All pairs.
        total: usize,
    },
}

/// A split the configuration asked for that cannot be made is a
/// configuration error (defined here: `config` sits below `data`).
impl From<DataError> for crate::config::ConfigError {
    fn from(e: DataError) -> Self {
        crate::config::ConfigError::Data(e.to_string())
    }
}

/// All pairs of an operation with a seeded train/test split.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// Canonical operation name.
    pub op: String,
    /// Number of elements n (outputs); the `=` token is n.
    pub n: usize,
    /// Label of every pair, `labels[a * n + b] = a ∘ b`.
    pub labels: Vec<usize>,
    /// Training pair indices, ascending.
    pub train: Vec<usize>,
    /// Test pair indices, ascending.
    pub test: Vec<usize>,
    /// Test pairs that need the group structure (see [`Dataset::new`]), ascending.
    pub informative_test: Vec<usize>,
    /// The fraction used.
    pub train_fraction: f64,
    /// The split seed.
    pub seed: u64,
}

/// Training pairs of a table of order `n` at `train_fraction`:
/// round(f · n²), the size every split, estimate and schedule uses.
pub fn train_size(n: usize, train_fraction: f64) -> usize {
    (train_fraction * (n * n) as f64).round() as usize
}

impl Dataset {
    /// The dataset of `op` with `round(train_fraction · n²)` training pairs
    /// chosen by a permutation seeded with `seed`.
    ///
    /// The informative test pairs exclude (docs/design.md) pairs involving the
    /// identity (a left identity as `a` or a right identity as `b`) and pairs
    /// (a, b) whose transpose (b, a) is in training with a ∘ b = b ∘ a.
    ///
    /// # Errors
    /// A fraction outside (0, 1), or one that leaves train or test empty.
    pub fn new(op: &Operation, train_fraction: f64, seed: u64) -> Result<Self, DataError> {
        if !(train_fraction > 0.0 && train_fraction < 1.0) {
            return Err(DataError::TrainFraction(train_fraction));
        }
        let n = op.order();
        let total = n * n;
        let n_train = train_size(n, train_fraction);
        if n_train == 0 || n_train == total {
            return Err(DataError::EmptySplit {
                fraction: train_fraction,
                train: n_train,
                total,
            });
        }
        let perm = SplitMix64::derived(seed, "split").permutation(total);
        let mut in_train = vec![false; total];
        for &p in &perm[..n_train] {
            in_train[p] = true;
        }
        let train: Vec<usize> = (0..total).filter(|&p| in_train[p]).collect();
        let test: Vec<usize> = (0..total).filter(|&p| !in_train[p]).collect();
        let (left, right) = (op.left_identities(), op.right_identities());
        let informative_test = test
            .iter()
            .copied()
            .filter(|&p| {
                let (a, b) = (p / n, p % n);
                let trivial = left.contains(&a) || right.contains(&b);
                let by_transpose = in_train[b * n + a] && op.apply(a, b) == op.apply(b, a);
                !trivial && !by_transpose
            })
            .collect();
        Ok(Self {
            op: op.canonical.clone(),
            n,
            labels: op.table.clone(),
            train,
            test,
            informative_test,
            train_fraction,
            seed,
        })
    }

    /// The dataset a run of `cfg` trains on: [`Dataset::new`] with the
    /// config's fraction and seed, its training labels shuffled when
    /// `cfg.shuffle_labels` is set.
    ///
    /// # Errors
    /// As [`Dataset::new`].
    pub fn for_config(op: &Operation, cfg: &crate::config::RunConfig) -> Result<Self, DataError> {
        let ds = Self::new(op, cfg.train_fraction, cfg.seed)?;
        Ok(if cfg.shuffle_labels {
            ds.with_shuffled_training_labels()
        } else {
            ds
        })
    }

    /// The shuffled-label null: the labels of the training pairs permuted
    /// among the training pairs by a permutation seeded with the split seed
    /// (stream `"shuffle-labels"`); test labels stay the operation's. Each
    /// label keeps its count in the training set, but which pair carries it
    /// no longer follows any structure, so nothing learnt from the training
    /// pairs can transfer to the test pairs beyond label frequencies.
    /// Relabelling the elements of G instead would keep the structure (an
    /// isomorphic table), which is why the pairs are shuffled.
    pub fn with_shuffled_training_labels(mut self) -> Self {
        let perm = SplitMix64::derived(self.seed, "shuffle-labels").permutation(self.train.len());
        let original: Vec<usize> = self.train.iter().map(|&p| self.labels[p]).collect();
        for (i, &p) in self.train.iter().enumerate() {
            self.labels[p] = original[perm[i]];
        }
        self
    }

    /// Number of pairs, n².
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Always false: a dataset has n² ≥ 1 pairs.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The tokens `[a, b, =]` of pair `p`.
    pub fn tokens(&self, p: usize) -> [usize; 3] {
        [p / self.n, p % self.n, self.n]
    }

    /// A stable hash of what the model sees: operation, table and split
    /// (SHA-256, first 16 hex digits).
    pub fn hash(&self) -> String {
        let mut h = Sha256::new();
        h.update(format!("grokscope-dataset-v1\n{}\n{}\n", self.op, self.n).as_bytes());
        for &y in &self.labels {
            h.update((y as u32).to_le_bytes());
        }
        for &p in &self.train {
            h.update((p as u32).to_le_bytes());
        }
        crate::store::short_hex(&h.finalize())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shuffled_labels_permute_training_labels_only() {
        let op = Operation::parse("symmetric:3").unwrap();
        let ds = Dataset::new(&op, 0.7, 4).unwrap();
        let sh = ds.clone().with_shuffled_training_labels();
        for &p in &ds.test {
            assert_eq!(sh.labels[p], ds.labels[p], "test pair {p} relabelled");
        }
        let mut a: Vec<usize> = ds.train.iter().map(|&p| ds.labels[p]).collect();
        let mut b: Vec<usize> = sh.train.iter().map(|&p| sh.labels[p]).collect();
        let moved = a.iter().zip(&b).filter(|(x, y)| x != y).count();
        assert!(moved > ds.train.len() / 2, "only {moved} labels moved");
        a.sort_unstable();
        b.sort_unstable();
        assert_eq!(a, b, "label counts changed");
        assert_ne!(ds.hash(), sh.hash());
        let mut cfg = crate::config::RunConfig {
            op: "s3".into(),
            seed: 4,
            ..Default::default()
        };
        assert_eq!(Dataset::for_config(&op, &cfg).unwrap().labels, ds.labels);
        cfg.shuffle_labels = true;
        assert_eq!(Dataset::for_config(&op, &cfg).unwrap().labels, sh.labels);
    }

    #[test]
    fn split_is_seeded_and_sized() {
        let op = Operation::parse("add:23").unwrap();
        let a = Dataset::new(&op, 0.7, 0).unwrap();
        let b = Dataset::new(&op, 0.7, 0).unwrap();
        let c = Dataset::new(&op, 0.7, 1).unwrap();
        assert_eq!(a.train.len(), (0.7f64 * 529.0).round() as usize);
        assert_eq!(a.train, b.train);
        assert_ne!(a.train, c.train);
        assert_eq!(a.hash(), b.hash());
        assert_ne!(a.hash(), c.hash());
        assert_eq!(a.hash().len(), 16);
        let mut all: Vec<usize> = a.train.iter().chain(&a.test).copied().collect();
        all.sort();
        assert_eq!(all, (0..529).collect::<Vec<_>>());
    }

    #[test]
    fn informative_pairs_exclude_identity_and_commuting_transposes() {
        let op = Operation::parse("add:23").unwrap();
        let ds = Dataset::new(&op, 0.7, 3).unwrap();
        let train: std::collections::HashSet<usize> = ds.train.iter().copied().collect();
        for &p in &ds.informative_test {
            let (a, b) = (p / 23, p % 23);
            assert!(a != 0 && b != 0);
            assert!(!train.contains(&(b * 23 + a)));
        }
        // Every excluded test pair is excluded for a stated reason.
        for &p in &ds.test {
            let (a, b) = (p / 23, p % 23);
            let reason = a == 0 || b == 0 || train.contains(&(b * 23 + a));
            assert_eq!(!reason, ds.informative_test.contains(&p));
        }
        // Non-abelian: a non-commuting transpose in training is still informative.
        let s3 = Operation::parse("s3").unwrap();
        let ds = Dataset::new(&s3, 0.5, 0).unwrap();
        let g = s3.group.as_ref().unwrap();
        let train: std::collections::HashSet<usize> = ds.train.iter().copied().collect();
        let noncommuting = ds.test.iter().filter(|&&p| {
            let (a, b) = (p / 6, p % 6);
            a != 0 && b != 0 && !g.commutes(a, b) && train.contains(&(b * 6 + a))
        });
        for p in noncommuting {
            assert!(ds.informative_test.contains(p));
        }
    }

    #[test]
    fn subtraction_excludes_only_its_right_identity() {
        let op = Operation::parse("sub:7").unwrap();
        let ds = Dataset::new(&op, 0.5, 0).unwrap();
        // a - 0 = a is trivial; 0 - b is not.
        assert!(ds.informative_test.iter().all(|&p| p % 7 != 0));
        assert!(ds.informative_test.iter().any(|&p| p / 7 == 0));
    }

    #[test]
    fn bad_fractions_are_rejected_with_one_line_errors() {
        let op = Operation::parse("s3").unwrap();
        for f in [0.0, 1.0, 1.5, -0.1, f64::NAN] {
            let e = Dataset::new(&op, f, 0).unwrap_err().to_string();
            assert!(e.contains("outside (0, 1)") && !e.contains('\n'), "{e}");
        }
        let e = Dataset::new(&op, 0.001, 0).unwrap_err().to_string();
        assert!(e.contains("0 training pairs out of 36"), "{e}");
    }
}
