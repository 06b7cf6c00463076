//! `cargo xtask tidy`'s file-size check: no hand-written `.rs` file under `crates/*/src` or
//! `xtask/src` has more than [`LIMIT`] lines (generated files are listed in [`EXEMPT`]).

use std::path::Path;

use anyhow::Result;

/// The most lines a hand-written source file may have.
pub const LIMIT: usize = 600;
/// Generated files, exempt from the limit (paths from the workspace root).
pub const EXEMPT: &[&str] = &["crates/hub-postgres/src/schema.rs"];

/// The files over `limit` lines that are not exempt, longest first: (path, lines).
pub fn oversized(files: &[(String, usize)], limit: usize, exempt: &[&str]) -> Vec<(String, usize)> {
    let mut over: Vec<(String, usize)> =
        files.iter().filter(|(p, n)| *n > limit && !exempt.contains(&p.as_str())).cloned().collect();
    over.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    over
}

/// Every `.rs` file under `crates/*/src` and `xtask/src` with its line count.
pub fn line_counts(root: &Path) -> Result<Vec<(String, usize)>> {
    let mut srcs: Vec<String> = std::fs::read_dir(root.join("crates"))?
        .filter_map(|e| Some(format!("crates/{}/src", e.ok()?.file_name().to_str()?)))
        .filter(|s| root.join(s).is_dir())
        .collect();
    srcs.sort();
    srcs.push("xtask/src".to_owned());
    let mut out = Vec::new();
    for src in srcs {
        for (rel, text) in super::imports::read_sources(&root.join(&src))? {
            out.push((format!("{src}/{rel}"), text.lines().count()));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn over_the_limit_unless_exempt() {
        let files: Vec<(String, usize)> = [
            ("crates/a/src/lib.rs", 600),
            ("crates/a/src/big.rs", 601),
            ("crates/hub-postgres/src/schema.rs", 2000),
            ("xtask/src/huge.rs", 900),
            ("crates/b/src/tiny.rs", 3),
        ]
        .iter()
        .map(|(p, n)| ((*p).to_owned(), *n))
        .collect();
        assert_eq!(
            oversized(&files, LIMIT, EXEMPT),
            [("xtask/src/huge.rs".to_owned(), 900), ("crates/a/src/big.rs".to_owned(), 601)]
        );
        assert!(oversized(&files, 10_000, EXEMPT).is_empty());
    }

    /// xtask keeps to its own rule.
    #[test]
    fn xtask_files_are_within_the_limit() {
        let root = crate::util::root();
        let files: Vec<(String, usize)> =
            line_counts(&root).unwrap().into_iter().filter(|(p, _)| p.starts_with("xtask/")).collect();
        assert!(!files.is_empty());
        assert_eq!(oversized(&files, LIMIT, EXEMPT), []);
    }
}
