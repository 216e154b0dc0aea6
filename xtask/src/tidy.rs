//! `cargo xtask tidy` (also a `#[test]`): repository rules no compiler checks.

use std::fs;
use std::path::{Path, PathBuf};

/// Checks the tree at `root`; returns every problem found.
pub(crate) fn check(root: &Path) -> Result<(), Vec<String>> {
    let mut problems = Vec::new();
    let changelog = fs::read_to_string(root.join("CHANGELOG.md")).unwrap_or_default();
    let readme = fs::read_to_string(root.join("README.md")).unwrap_or_default();
    let architecture = fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap_or_default();
    for krate in crates(root) {
        let name = krate
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let entry = ["src/lib.rs", "src/main.rs"]
            .iter()
            .map(|f| krate.join(f))
            .find(|p| p.exists());
        match entry.map(fs::read_to_string) {
            Some(Ok(text)) => {
                if !text.starts_with("//!") {
                    problems.push(format!("{name}: the crate root must open with //! docs"));
                }
                if !text.contains("#![forbid(unsafe_code)]") {
                    problems.push(format!("{name}: the crate root must forbid unsafe code"));
                }
            }
            _ => problems.push(format!("{name}: no src/lib.rs or src/main.rs")),
        }
        for (doc, text) in [
            ("CHANGELOG.md", &changelog),
            ("README.md", &readme),
            ("ARCHITECTURE.md", &architecture),
        ] {
            if !text.contains(&format!("`{name}`")) {
                problems.push(format!("{doc} does not mention `{name}`"));
            }
        }
    }
    for file in files(root) {
        let Ok(text) = fs::read_to_string(&file) else {
            continue;
        };
        let shown = file
            .strip_prefix(root)
            .unwrap_or(&file)
            .display()
            .to_string();
        for (n, line) in text.lines().enumerate() {
            if line.ends_with(' ') || line.ends_with('\t') {
                problems.push(format!("{shown}:{}: trailing whitespace", n + 1));
            }
        }
        if shown.ends_with(".rs") && !shown.starts_with("xtask/") {
            // Split so this file does not match itself.
            for banned in [concat!("#[", "ignore"), concat!("#[", "should_panic")] {
                if text.contains(banned) {
                    problems.push(format!("{shown}: {banned}] is not allowed: a test must run and must be able to fail"));
                }
            }
        }
    }
    if let Ok(targets) = crate::fuzz::targets() {
        for target in targets {
            let seeds = root.join("fuzz/seeds").join(&target);
            let count = fs::read_dir(&seeds).map_or(0, Iterator::count);
            if count == 0 {
                problems.push(format!(
                    "fuzz target {target} has no committed seeds in fuzz/seeds/{target}"
                ));
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

fn crates(root: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = fs::read_dir(root.join("crates"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("Cargo.toml").exists())
        .collect();
    out.sort();
    out
}

/// Text files of the project (skipping build output, vendored tools and fuzz corpora).
fn files(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if path.is_dir() {
                let skip = name.starts_with('.')
                    || matches!(
                        name.as_str(),
                        "target" | "node_modules" | "corpus" | "artifacts" | "seeds" | "fixtures"
                    );
                if !skip {
                    stack.push(path);
                }
            } else if [".rs", ".md", ".toml"]
                .iter()
                .any(|ext| name.ends_with(ext))
            {
                out.push(path);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_tree_is_tidy() {
        if let Err(problems) = super::check(&crate::root()) {
            panic!("tidy found problems:\n{}", problems.join("\n"));
        }
    }

    #[test]
    fn tidy_reports_a_crate_without_docs() {
        let dir = std::env::temp_dir().join(format!("xtask-tidy-{}", std::process::id()));
        let krate = dir.join("crates/bad/src");
        std::fs::create_dir_all(&krate).unwrap();
        std::fs::write(dir.join("crates/bad/Cargo.toml"), "").unwrap();
        std::fs::write(krate.join("lib.rs"), "fn main() {} \n").unwrap();
        let problems = super::check(&dir).unwrap_err();
        std::fs::remove_dir_all(&dir).unwrap();
        let text = problems.join("\n");
        assert!(text.contains("must open with //! docs"), "{text}");
        assert!(text.contains("forbid unsafe"), "{text}");
        assert!(text.contains("trailing whitespace"), "{text}");
        assert!(
            text.contains("CHANGELOG.md does not mention `bad`"),
            "{text}"
        );
    }
}
