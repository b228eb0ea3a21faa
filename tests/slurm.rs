//! A sweep handed to a real Slurm (a single node on localhost, started by
//! scripts/slurm-local) runs as a job array of shards, completes every run
//! exactly once, and aggregates to the same results as the same sweep run
//! locally, apart from timing and host fields.
#![cfg(feature = "torch")]

use std::path::{Path, PathBuf};
use std::process::Command;

struct LocalSlurm(PathBuf);

impl Drop for LocalSlurm {
    fn drop(&mut self) {
        let _ = Command::new(root().join("scripts/slurm-local"))
            .arg("stop")
            .arg(&self.0)
            .status();
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn grokscope(conf: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_grokscope"));
    c.env("SLURM_CONF", conf);
    c
}

fn spec(dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let p = dir.join("campaign.toml");
    // Four operations of four orders, two seeds each: four batches (the
    // plan batches runs of one order), so four array tasks.
    std::fs::write(
        &p,
        "ops = [\"s3\", \"d5\", \"a4\", \"ring:7\"]\nseeds = [0, 1]\n[set]\nepochs = 300\ncheckpoint_every = 100\nd_model = 32\nd_mlp = 64\nthreads = 1\n",
    )
    .unwrap();
    p
}

/// The results table without what differs between machines and runs of
/// one sweep, and without the dominant irrep (`analyze --sweep` fills it).
fn without_timing_and_host(path: &Path) -> polars::prelude::DataFrame {
    let df = grokscope::store::read_parquet(path).unwrap();
    let analysis = grokscope::results::RESULTS_ANALYSIS.map(|(c, _)| c);
    df.drop_many(["wall_seconds", "host"].into_iter().chain(analysis))
}

#[test]
fn a_sweep_runs_as_a_slurm_array_like_a_local_sweep() {
    let start = std::time::Instant::now();
    let dir = std::env::temp_dir().join(format!("grokscope-slurm-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let daemons = dir.join("slurm");
    let up = Command::new(root().join("scripts/slurm-local"))
        .arg("start")
        .arg(&daemons)
        .output()
        .unwrap();
    let guard = LocalSlurm(daemons.clone());
    if !up.status.success() {
        println!(
            "slurm test skipped: {}",
            String::from_utf8_lossy(&up.stderr).trim()
        );
        return;
    }
    let conf = daemons.join("slurm.conf");

    let cluster = spec(&dir.join("cluster"));
    let runs = dir.join("runs-slurm");
    let o = grokscope(&conf)
        .arg("sweep")
        .arg(&cluster)
        .args(["--slurm", "--shards", "4", "--runs"])
        .arg(&runs)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let status = || {
        let o = grokscope(&conf)
            .arg("sweep")
            .arg(&cluster)
            .args(["--status", "--runs"])
            .arg(&runs)
            .output()
            .unwrap();
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(600);
    let mut shown = false;
    loop {
        let s = status();
        if !shown && s.contains("running") {
            println!("[slurm] status during the campaign:\n{s}");
            shown = true;
        }
        if s.contains("have left the queue") {
            println!("[slurm] status at the end:\n{s}");
            assert!(s.contains("8 runs: 8 complete"), "{s}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "campaign did not finish: {s}"
        );
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    let results = dir.join("cluster/campaign");
    assert!(
        results.join("results.parquet").exists(),
        "the aggregating job ran"
    );
    assert!(
        results.join("analysis.parquet").exists(),
        "the aggregating job analysed the sweep"
    );
    // Each run's dominant irrep is stored with its degree and faithfulness,
    // as the group's own representations give them.
    use grokscope::results::record::Record;
    let df = grokscope::store::read_parquet(&results.join("analysis.parquet")).unwrap();
    let rows = grokscope::results::rows::AnalysisRow::read_all(&df).unwrap();
    assert_eq!(rows.len(), 8);
    for r in &rows {
        let op = grokscope::groups::Operation::parse(&r.op).unwrap();
        let reps = op.analysis.group.representations();
        let rep = &reps.real[reps.find(&r.dominant_irrep).unwrap()];
        assert_eq!(
            r.dominant_degree,
            Some(rep.complex_dim() as u32),
            "{}",
            r.run_id
        );
        assert_eq!(r.dominant_faithful, Some(rep.is_faithful()), "{}", r.run_id);
    }
    // And as the character tables say: every non-trivial irrep of Z/7 is
    // faithful of degree 1; S3's and D5's faithful irreps are those of
    // degree 2 (the sign is not), A4's the one of degree 3.
    for r in &rows {
        let (d, f) = (r.dominant_degree.unwrap(), r.dominant_faithful.unwrap());
        match r.op.as_str() {
            "ring:7" => assert!(d == 1 && f, "{}: {d} {f}", r.op),
            "s3" | "d5" => assert_eq!(f, d == 2, "{}", r.op),
            "a4" => assert_eq!(f, d == 3, "{}", r.op),
            other => panic!("unexpected operation {other}"),
        }
    }
    // The analysis wrote each run's dominant irrep into its results row.
    let stored = grokscope::store::read_parquet(&results.join("results.parquet")).unwrap();
    let ids = stored.column("run_id").unwrap().str().unwrap().clone();
    let irreps = stored
        .column("dominant_irrep")
        .unwrap()
        .str()
        .unwrap()
        .clone();
    for (id, irrep) in ids.iter().zip(irreps.iter()) {
        let row = rows.iter().find(|r| Some(r.run_id.as_str()) == id).unwrap();
        assert_eq!(irrep, Some(row.dominant_irrep.as_str()), "{id:?}");
    }
    // Every run completed exactly once, by some array task.
    let mut completions = std::collections::BTreeMap::new();
    let mut tasks = 0;
    for e in std::fs::read_dir(results.join("slurm")).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        if name.starts_with("task-") {
            tasks += 1;
            for line in std::fs::read_to_string(e.path()).unwrap().lines() {
                if let Some((_, path)) = line.split_once(": complete ") {
                    *completions.entry(path.to_string()).or_insert(0) += 1;
                }
            }
        }
    }
    assert_eq!(tasks, 4, "one log per array task");
    assert_eq!(completions.len(), 8, "{completions:?}");
    assert!(completions.values().all(|&n| n == 1), "{completions:?}");

    // The same sweep run locally aggregates to the same results.
    let local = spec(&dir.join("local"));
    let o = Command::new(env!("CARGO_BIN_EXE_grokscope"))
        .arg("sweep")
        .arg(&local)
        .arg("--runs")
        .arg(dir.join("runs-local"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let local_results = dir.join("local/campaign");
    assert_eq!(
        without_timing_and_host(&results.join("results.parquet")),
        without_timing_and_host(&local_results.join("results.parquet")),
    );
    assert_eq!(
        std::fs::read(results.join("curves.parquet")).unwrap(),
        std::fs::read(local_results.join("curves.parquet")).unwrap(),
        "training curves byte for byte"
    );
    println!(
        "[slurm] array of 4 shards, 8 runs, aggregated like a local sweep in {:.0} s",
        start.elapsed().as_secs_f64()
    );
    drop(guard); // stop the daemons while their pid files exist
    std::fs::remove_dir_all(&dir).unwrap();
}
