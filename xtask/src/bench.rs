//! `cargo xtask bench [NAME]`: runs the criterion benches, then prints the figures that matter:
//! every measured function's throughput and the ratio of ours to each peer in the same group.

use std::fs;
use std::path::Path;

use crate::{cargo, exec, root};

/// Functions whose name starts with this are ours; the others are peers or ceilings.
const OURS: &str = "push-";

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let mut cmd = cargo();
    cmd.args(["bench", "-p", "push-benches", "--locked"]);
    if let Some(name) = args.first() {
        cmd.args(["--bench", name]);
    }
    exec(&mut cmd)?;
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| root().join("target"), std::path::PathBuf::from);
    let table = summary(&target.join("criterion"));
    println!("\n{table}");
    // Figures criterion does not report (percentiles, memory), written by the benches.
    let mut notes: Vec<_> = fs::read_dir(target.join("push-bench-notes"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .collect();
    notes.sort();
    for note in notes {
        if let Ok(text) = fs::read_to_string(&note) {
            print!("{text}");
        }
    }
    Ok(())
}

#[derive(Debug)]
struct Row {
    group: String,
    function: String,
    /// Seconds per iteration (criterion's mean).
    seconds: f64,
    /// Bytes or elements per iteration, when the bench declared a throughput.
    per_iter: Option<(f64, &'static str)>,
}

impl Row {
    /// Units per second, or iterations per second when no throughput was declared.
    fn rate(&self) -> f64 {
        self.per_iter.map_or(1.0, |(n, _)| n) / self.seconds
    }

    fn rate_text(&self) -> String {
        let rate = self.rate();
        match self.per_iter {
            Some((_, "bytes")) => format!("{:.3} GB/s", rate / 1e9),
            Some((_, unit)) => format!("{:.0} {unit}/s", rate),
            None => format!("{:.0} iter/s ({})", rate, duration(self.seconds)),
        }
    }
}

fn duration(seconds: f64) -> String {
    if seconds >= 1.0 {
        format!("{seconds:.2} s")
    } else if seconds >= 1e-3 {
        format!("{:.2} ms", seconds * 1e3)
    } else {
        format!("{:.2} µs", seconds * 1e6)
    }
}

/// The summary table of every group measured under `dir` (target/criterion).
fn summary(dir: &Path) -> String {
    let rows = collect(dir);
    let mut out = String::from(
        "group                 function              rate                       ours ÷ this\n",
    );
    let mut groups: Vec<&str> = rows.iter().map(|r| r.group.as_str()).collect();
    groups.dedup();
    for group in groups {
        let in_group: Vec<&Row> = rows.iter().filter(|r| r.group == group).collect();
        let ours = in_group.iter().find(|r| r.function.starts_with(OURS));
        for row in &in_group {
            let ratio = match ours {
                Some(o) if !row.function.starts_with(OURS) => {
                    format!("{:.2}×", o.rate() / row.rate())
                }
                _ => String::new(),
            };
            out.push_str(&format!(
                "{:<21} {:<21} {:<26} {}\n",
                row.group,
                row.function,
                row.rate_text(),
                ratio
            ));
        }
    }
    out
}

fn collect(dir: &Path) -> Vec<Row> {
    let mut rows = Vec::new();
    let mut groups: Vec<_> = fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .collect();
    groups.sort();
    for group in groups.iter().filter(|p| p.is_dir()) {
        let mut functions: Vec<_> = fs::read_dir(group)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .collect();
        functions.sort();
        for function in functions {
            let estimates = fs::read_to_string(function.join("new/estimates.json"));
            let benchmark = fs::read_to_string(function.join("new/benchmark.json"));
            let (Ok(estimates), Ok(benchmark)) = (estimates, benchmark) else {
                continue;
            };
            let Some(nanos) = number_after(&estimates, "\"mean\"", "\"point_estimate\":") else {
                continue;
            };
            let per_iter = number_after(&benchmark, "\"throughput\"", "\"Bytes\":")
                .map(|n| (n, "bytes"))
                .or_else(|| {
                    number_after(&benchmark, "\"throughput\"", "\"Elements\":")
                        .map(|n| (n, "elements"))
                });
            rows.push(Row {
                group: name(group),
                function: name(&function),
                seconds: nanos / 1e9,
                per_iter,
            });
        }
    }
    rows
}

fn name(path: &Path) -> String {
    path.file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned()
}

/// The number after `key`, searched after `section` (criterion's JSON, read without a parser).
fn number_after(json: &str, section: &str, key: &str) -> Option<f64> {
    let rest = &json[json.find(section)?..];
    let rest = &rest[rest.find(key)? + key.len()..];
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '-' | '+')))
        .unwrap_or(rest.len());
    rest[..end].trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_criterion_output_and_computes_ratios() {
        let dir = std::env::temp_dir().join(format!("xtask-bench-{}", std::process::id()));
        for (function, mean, bytes) in [("push-x", "500.0", "1000"), ("peer", "1000.0", "1000")] {
            let d = dir.join("grp").join(function).join("new");
            fs::create_dir_all(&d).unwrap();
            fs::write(d.join("estimates.json"), format!(r#"{{"mean":{{"confidence_interval":{{"lower_bound":1.0}},"point_estimate":{mean},"standard_error":2.0}}}}"#)).unwrap();
            fs::write(
                d.join("benchmark.json"),
                format!(r#"{{"group_id":"grp","throughput":{{"Bytes":{bytes}}}}}"#),
            )
            .unwrap();
        }
        let table = summary(&dir);
        fs::remove_dir_all(&dir).unwrap();
        assert!(table.contains("2.000 GB/s"), "{table}");
        assert!(table.contains("2.00×"), "{table}");
    }
}
