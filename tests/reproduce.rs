//! A stored result is reproduced exactly: one configuration of the
//! committed suite (s3, small enough for a test) is retrained with the seeds
//! it was batched with and the thread count it recorded, and its summary
//! must equal the stored one number for number.
#![cfg(feature = "torch")]

use grokscope::config::RunConfig;
use grokscope::report::{floats, strings, Experiments};
use grokscope::train::{train, Quiet};
use std::path::Path;

#[test]
fn retraining_a_stored_configuration_reproduces_its_summary() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let exp = Experiments::load(&root.join("experiments")).unwrap();
    let results = &exp.suite.as_ref().expect("committed suite results").results;
    let ops = strings(results, "op").unwrap();
    let seeds = floats(results, "seed").unwrap();
    let row = (0..ops.len())
        .find(|&i| ops[i] == "s3" && seeds[i] == Some(0.0))
        .expect("s3 seed 0 in the suite");
    // Rebuild the exact config from the stored columns.
    let mut table = toml::Table::try_from(RunConfig::default()).unwrap();
    for key in table.clone().keys() {
        let v = match table[key] {
            toml::Value::String(_) => {
                toml::Value::String(strings(results, key).unwrap()[row].clone())
            }
            toml::Value::Boolean(_) => {
                toml::Value::Boolean(grokscope::report::bools(results, key).unwrap()[row])
            }
            toml::Value::Integer(_) => {
                toml::Value::Integer(floats(results, key).unwrap()[row].unwrap() as i64)
            }
            _ => toml::Value::Float(floats(results, key).unwrap()[row].unwrap()),
        };
        table.insert(key.clone(), v);
    }
    let cfg: RunConfig = table.try_into().unwrap();
    let threads = floats(results, "run_threads").unwrap()[row].unwrap() as usize;
    let batch: Vec<u64> = strings(results, "batch_seeds").unwrap()[row]
        .split(',')
        .map(|s| s.parse().unwrap())
        .collect();
    let configs: Vec<RunConfig> = batch
        .iter()
        .map(|&s| RunConfig {
            seed: s,
            ..cfg.clone()
        })
        .collect();
    let trained = train(&configs, threads, &mut Quiet).unwrap();
    let ours = &trained.summaries[batch.iter().position(|&s| s == 0).unwrap()];
    let stored = |k: &str| floats(results, k).unwrap()[row];
    assert_eq!(
        ours.memorised_epoch.map(f64::from),
        stored("memorised_epoch")
    );
    assert_eq!(ours.grokked_epoch.map(f64::from), stored("grokked_epoch"));
    for (k, v) in [
        ("final_train_accuracy", ours.final_train_accuracy),
        ("final_test_accuracy", ours.final_test_accuracy),
        (
            "final_informative_accuracy",
            ours.final_informative_accuracy,
        ),
        ("final_train_loss", ours.final_train_loss),
        ("final_test_loss", ours.final_test_loss),
    ] {
        assert_eq!(
            Some(v),
            stored(k),
            "{k}: retrained {v} vs stored {:?}",
            stored(k)
        );
    }
    println!("[retrain] s3 seed 0 ({} epochs, {threads} thread(s), batch {batch:?}) reproduced its stored summary", cfg.epochs);
}
