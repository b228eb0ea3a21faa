//! Browsing the atlas (`notebooks/08-atlas.ipynb`): the complete orders,
//! one order's groups ranked by time to grok, one group's invariants and
//! character table, and its runs' curves, all from the committed results
//! in `experiments/atlas/` (no training, no runs directory).

use super::atlas::{Atlas, AtlasGroup};
use crate::analysis::complexity::smallest_faithful_dim;
use crate::groups::invariants::Invariants;
use crate::groups::FiniteGroup;
use crate::notebook::{Figure, Table};
use crate::report::data::SweepData;
use crate::report::figures;
use crate::report::{ReportError, Result};
use polars::prelude::*;
use std::path::Path;

/// The atlas' complete orders and their stored results.
#[derive(Debug, Clone)]
pub struct AtlasBrowser {
    /// The groups of the complete orders, as the claims read them.
    pub atlas: Atlas,
    data: SweepData,
}

fn frame(columns: Vec<Column>) -> Result<DataFrame> {
    let height = columns.first().map_or(0, Column::len);
    DataFrame::new(height, columns).map_err(|e| ReportError::Data(e.to_string()))
}

impl AtlasBrowser {
    /// Reads `experiments/atlas/` and `experiments/atlas.toml` under
    /// `experiments`.
    ///
    /// # Errors
    /// No atlas results there, or unreadable tables.
    pub fn load(experiments: impl AsRef<Path>) -> Result<Self> {
        let dir = experiments.as_ref();
        let missing = || {
            ReportError::Data(format!(
                "{} has no atlas results; give the experiments directory of a grokscope checkout (notebooks: \"../experiments\")",
                dir.display()
            ))
        };
        let atlas = Atlas::load(dir)?.ok_or_else(missing)?;
        let data = SweepData::load(dir, "atlas")?.ok_or_else(missing)?;
        Ok(Self { atlas, data })
    }

    fn groups_of(&self, order: usize) -> Result<Vec<&AtlasGroup>> {
        if !self.atlas.complete.contains(&order) {
            return Err(ReportError::Data(format!(
                "order {order} is not a complete order of the atlas; complete: {}",
                self.atlas.complete_orders()
            )));
        }
        Ok(self
            .atlas
            .groups
            .iter()
            .filter(|g| g.order == order)
            .collect())
    }

    fn group_of(&self, op: &str) -> Result<&AtlasGroup> {
        self.atlas
            .groups
            .iter()
            .find(|g| g.op == op)
            .ok_or_else(|| {
                ReportError::Data(format!(
                    "{op} is not a group of the atlas' complete orders ({}); name one as smallgroup:n,i",
                    self.atlas.complete_orders()
                ))
            })
    }

    /// One row per complete order: groups, runs, runs that sustain-grok,
    /// groups with a seed that groks, the median restricted mean time.
    ///
    /// # Errors
    /// Never in practice (a polars error building the frame).
    pub fn orders(&self) -> Result<Table> {
        let mut cols: [Vec<u32>; 5] = Default::default();
        let mut median = Vec::new();
        for &order in &self.atlas.complete {
            let gs = self.groups_of(order)?;
            let times: Vec<f64> = gs.iter().map(|g| g.time()).collect();
            median.push(crate::analysis::stats::median(&times));
            let count = |f: &dyn Fn(&AtlasGroup) -> usize| gs.iter().map(|g| f(g)).sum::<usize>();
            cols[0].push(order as u32);
            cols[1].push(gs.len() as u32);
            cols[2].push(count(&|g| g.epochs.len()) as u32);
            cols[3].push(count(&|g| g.epochs.iter().flatten().count()) as u32);
            cols[4].push(count(&|g| usize::from(g.epochs.iter().any(Option::is_some))) as u32);
        }
        let names = ["order", "groups", "runs", "runs grokked", "groups grokked"];
        let mut columns: Vec<Column> = names
            .iter()
            .zip(cols)
            .map(|(n, c)| Column::new((*n).into(), c))
            .collect();
        columns.push(Column::new("median time".into(), median));
        Ok(Table::new(&frame(columns)?).max_rows(100))
    }

    /// The groups of a complete order, earliest to grok first: the
    /// restricted mean time, seeds grokked, class, and A1–A4's invariants.
    ///
    /// # Errors
    /// An order that is not complete.
    pub fn order(&self, order: usize) -> Result<Table> {
        let mut gs = self.groups_of(order)?;
        gs.sort_by(|a, b| a.time().total_cmp(&b.time()));
        let text = |f: &dyn Fn(&AtlasGroup) -> String| -> Vec<String> {
            gs.iter().map(|g| f(g)).collect()
        };
        let num = |h: usize| -> Vec<f64> { gs.iter().map(|g| g.invariants[h]).collect() };
        let columns = vec![
            Column::new("group".into(), text(&|g| g.op.clone())),
            Column::new(
                "time".into(),
                gs.iter().map(|g| g.time()).collect::<Vec<_>>(),
            ),
            Column::new(
                "seeds grokked".into(),
                text(&|g| format!("{}/{}", g.epochs.iter().flatten().count(), g.epochs.len())),
            ),
            Column::new("class".into(), text(&|g| g.class.label().to_string())),
            Column::new(
                "cyclic".into(),
                gs.iter().map(|g| g.cyclic).collect::<Vec<_>>(),
            ),
            Column::new("|G/G'|".into(), num(0)),
            Column::new("b(G)".into(), num(1)),
            Column::new("F1".into(), num(2)),
            Column::new("k(G)/|G|".into(), num(3)),
            Column::new(
                "nilpotency class".into(),
                gs.iter()
                    .map(|g| g.nilpotency_class as u32)
                    .collect::<Vec<_>>(),
            ),
        ];
        Ok(Table::new(&frame(columns)?).max_rows(300))
    }

    /// The group `smallgroup:n,i`: a cell that ends with it shows its
    /// character table and real irreps.
    ///
    /// # Errors
    /// Not a group of a complete order.
    pub fn group(&self, op: &str) -> Result<FiniteGroup> {
        let g = self.group_of(op)?;
        let i = op
            .rsplit(',')
            .next()
            .and_then(|i| i.trim().parse().ok())
            .unwrap_or(0);
        crate::groups::small::small_group(g.order, i).map_err(|e| ReportError::Data(e.to_string()))
    }

    /// Every invariant grokscope computes for the group, with its runs'
    /// sustained grok epochs.
    ///
    /// # Errors
    /// Not a group of a complete order.
    pub fn invariants(&self, op: &str) -> Result<Table> {
        let g = self.group(op)?;
        let a = self.group_of(op)?;
        let inv = Invariants::of(&g);
        let epochs: Vec<String> = a
            .epochs
            .iter()
            .map(|e| e.map_or("-".into(), |e| e.to_string()))
            .collect();
        let rows: Vec<(&str, String)> = vec![
            ("order |G|", inv.order.to_string()),
            ("class", a.class.label().into()),
            ("cyclic", a.cyclic.to_string()),
            ("|G'|", inv.derived_order.to_string()),
            ("|G/G'| (A1)", inv.abelianisation_order().to_string()),
            ("largest irrep degree b(G) (A2)", inv.max_degree.to_string()),
            (
                "smallest faithful real rep F1 (A3)",
                smallest_faithful_dim(&g).to_string(),
            ),
            (
                "commuting probability k(G)/|G| (A4)",
                format!("{:.4}", inv.commuting_probability),
            ),
            ("conjugacy classes k(G)", inv.classes.to_string()),
            (
                "nilpotency class (0: not nilpotent)",
                inv.nilpotency_class.to_string(),
            ),
            (
                "derived length (0: not solvable)",
                inv.derived_length.to_string(),
            ),
            ("exponent", inv.exponent.to_string()),
            ("centre order |Z(G)|", inv.centre_order.to_string()),
            ("sustained grok epoch by seed", epochs.join(", ")),
            ("restricted mean time", format!("{:.0}", a.time())),
        ];
        let (names, values): (Vec<&str>, Vec<String>) = rows.into_iter().unzip();
        Ok(Table::new(&frame(vec![
            Column::new("invariant".into(), names),
            Column::new("value".into(), values),
        ])?)
        .max_rows(50))
    }

    /// The group's runs (train, test and informative-test accuracy,
    /// mean over seeds with the min–max band), from the committed curves
    /// (every 100 epochs).
    ///
    /// # Errors
    /// Not a group of a complete order, or a drawing error.
    pub fn curves(&self, op: &str) -> Result<Figure> {
        self.group_of(op)?;
        let data = only_op(&self.data, op)?;
        Figure::draw((760, 420), |a| figures::grokking_curves(&a, &data))
    }
}

/// `data` restricted to the runs of `op` (results, curves, groups).
fn only_op(data: &SweepData, op: &str) -> Result<SweepData> {
    let err = |e: PolarsError| ReportError::Data(format!("experiments/atlas: {e}"));
    let by = |df: &DataFrame, key: &str, keep: &dyn Fn(&str) -> bool| -> Result<DataFrame> {
        let mask: BooleanChunked = df
            .column(key)
            .and_then(|c| c.str().cloned())
            .map_err(err)?
            .iter()
            .map(|v| Some(v.is_some_and(keep)))
            .collect();
        df.filter(&mask).map_err(err)
    };
    let results = by(&data.results, "op", &|v| v == op)?;
    let ids: std::collections::HashSet<String> = results
        .column("run_id")
        .and_then(|c| c.str().cloned())
        .map_err(err)?
        .iter()
        .flatten()
        .map(String::from)
        .collect();
    let curves = data
        .curves
        .as_ref()
        .map(|c| by(c, "run_id", &|v| ids.contains(v)))
        .transpose()?;
    let groups = data
        .groups
        .as_ref()
        .map(|g| by(g, "op", &|v| v == op))
        .transpose()?;
    Ok(SweepData {
        name: data.name.clone(),
        dir: data.dir.clone(),
        results,
        curves,
        groups,
        ..SweepData::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn browser() -> AtlasBrowser {
        AtlasBrowser::load(Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments")).unwrap()
    }

    #[test]
    fn an_order_is_its_groups_ranked_by_time() {
        let b = browser();
        // GAP: the five groups of order 8.
        let html = b.order(8).unwrap().html();
        assert_eq!(html.matches("smallgroup:8,").count(), 5, "{html}");
        let times: Vec<f64> = b
            .atlas
            .groups
            .iter()
            .filter(|g| g.order == 8)
            .map(AtlasGroup::time)
            .collect();
        let shown: Vec<f64> = html
            .split("<tr><td>smallgroup:8,")
            .skip(1)
            .map(|row| {
                let cell = row.split("</td><td>").nth(1).unwrap();
                cell.parse().unwrap()
            })
            .collect();
        let mut sorted = times.clone();
        sorted.sort_by(f64::total_cmp);
        assert_eq!(shown, sorted);
        let orders = b.orders().unwrap().html();
        assert!(
            orders.contains("<td>8</td><td>5</td><td>15</td>"),
            "{orders}"
        );
    }

    #[test]
    fn a_group_shows_its_invariants_table_and_curves() {
        let b = browser();
        // SmallGroup(8,3) is D4: 5 classes, |G'| = 2, b = 2, F1 = 2.
        let g = b.group("smallgroup:8,3").unwrap();
        assert_eq!(g.conjugacy_classes().len(), 5);
        let inv = b.invariants("smallgroup:8,3").unwrap().html();
        for row in [
            "<td>|G/G&#39;| (A1)</td><td>4</td>",
            "<td>largest irrep degree b(G) (A2)</td><td>2</td>",
            "<td>smallest faithful real rep F1 (A3)</td><td>2</td>",
            "<td>commuting probability k(G)/|G| (A4)</td><td>0.6250</td>",
        ] {
            assert!(
                inv.contains(&row.replace("&#39;", "'")),
                "{row} not in {inv}"
            );
        }
        let svg = b.curves("smallgroup:8,3").unwrap();
        assert!(svg.svg().starts_with("<svg"));
        for bad in ["smallgroup:8,9", "s4"] {
            let e = b.invariants(bad).unwrap_err().to_string();
            assert!(e.contains("not a group of the atlas"), "{e}");
        }
        let e = b.order(65).unwrap_err().to_string();
        assert!(e.contains("not a complete order"), "{e}");
        // While a campaign runs, its pending order and groups are refused,
        // whichever order that is: here order 64, withheld from a copy.
        let mut running = b.clone();
        running.atlas.complete.retain(|&o| o != 64);
        running.atlas.groups.retain(|g| g.order != 64);
        assert!(b.invariants("smallgroup:64,1").is_ok());
        let e = running
            .invariants("smallgroup:64,1")
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a group of the atlas"), "{e}");
        let e = running.order(64).unwrap_err().to_string();
        assert!(e.contains("not a complete order"), "{e}");
    }
}
