//! `cargo xtask tidy`'s dependency rules (docs/ARCHITECTURE.md): the core never reaches an
//! adapter or a wire/driver crate, and adapters never depend on each other or on `hub-app`.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::process::Command;

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::util;

/// Crates of the core, which must stay free of adapters.
pub const CORE: &[&str] = &["hub-domain", "hub-ports", "hub-engine"];
/// The composition root: it knows every crate, and no adapter knows it.
pub const APP: &str = "hub-app";
/// What the core may never depend on, directly or not.
const FORBIDDEN: &[&str] = &[
    "actix-web",
    "actix-http",
    "diesel",
    "diesel-async",
    "reqwest",
    "hyper",
    "paperclip",
    "apalis",
    "hub-postgres",
    "hub-tiktok",
    "hub-redis",
    "redis",
    "hub-webhooks",
    "hub-http",
    "hub-jobs",
    "hub-web",
    "maud",
    "tiktok-sandbox",
];

/// Checks with `cargo tree` that no core crate reaches an adapter or a wire/driver crate.
pub fn core_boundaries() -> Result<()> {
    let members = util::output(Command::new(util::cargo()).args(["metadata", "--no-deps", "--format-version", "1"]))?;
    let mut problems = Vec::new();
    for krate in CORE.iter().filter(|k| members.contains(&format!("\"name\":\"{k}\""))) {
        let tree = util::output(
            Command::new(util::cargo())
                .args(["tree", "-p", krate, "-e", "normal", "--prefix", "none", "--format", "{p}"]),
        )?;
        for line in tree.lines() {
            let name = line.split_whitespace().next().unwrap_or_default();
            if FORBIDDEN.contains(&name) {
                problems.push(format!("{krate} depends on {name}"));
            }
        }
    }
    problems.sort();
    problems.dedup();
    if !problems.is_empty() {
        bail!("crate boundaries broken:\n  {}", problems.join("\n  "));
    }
    eprintln!("xtask: crate boundaries ok ({} checked)", CORE.join(", "));
    Ok(())
}

/// Checks with `cargo metadata` that no adapter depends (through normal dependencies, directly
/// or not) on another adapter or on `hub-app`.
pub fn adapter_boundaries() -> Result<()> {
    let json = util::output(Command::new(util::cargo()).args(["metadata", "--no-deps", "--format-version", "1"]))?;
    let graph = workspace_graph(&json)?;
    let adapters = adapters(&graph);
    let problems = adapter_problems(&graph, &adapters);
    if !problems.is_empty() {
        bail!("adapter boundaries broken:\n  {}", problems.join("\n  "));
    }
    let names: Vec<&str> = adapters.iter().map(String::as_str).collect();
    eprintln!("xtask: adapter boundaries ok ({} checked)", names.join(", "));
    Ok(())
}

/// The workspace's crates (`crates/<name>/Cargo.toml`) and their normal dependencies on each
/// other, from `cargo metadata --no-deps` (which lists the workspace members only).
pub fn workspace_graph(metadata: &str) -> Result<BTreeMap<String, BTreeSet<String>>> {
    let v: Value = serde_json::from_str(metadata).context("cargo metadata is not JSON")?;
    let packages = v["packages"].as_array().context("cargo metadata without packages")?;
    let names: BTreeSet<String> = packages.iter().filter_map(|p| p["name"].as_str().map(str::to_owned)).collect();
    let mut graph = BTreeMap::new();
    for p in packages {
        let (Some(name), Some(manifest)) = (p["name"].as_str(), p["manifest_path"].as_str()) else { continue };
        let in_crates = manifest.replace('\\', "/").ends_with(&format!("/crates/{name}/Cargo.toml"));
        let deps: BTreeSet<String> = p["dependencies"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .filter(|d| d["kind"].is_null())
            .filter_map(|d| d["name"].as_str())
            .filter(|d| names.contains(*d))
            .map(str::to_owned)
            .collect();
        if in_crates || name == APP {
            graph.insert(name.to_owned(), deps);
        }
    }
    Ok(graph)
}

/// Every `hub-*` crate that is not the core or `hub-app`.
pub fn adapters(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    graph.keys().filter(|n| n.starts_with("hub-") && !CORE.contains(&n.as_str()) && *n != APP).cloned().collect()
}

/// `hub-http depends on hub-postgres (hub-http → x → hub-postgres)` for each adapter that
/// reaches another adapter or `hub-app`.
pub fn adapter_problems(graph: &BTreeMap<String, BTreeSet<String>>, adapters: &[String]) -> Vec<String> {
    let mut problems = Vec::new();
    for from in adapters {
        // Breadth first, so the path shown is a shortest one.
        let mut came_from: BTreeMap<&str, &str> = BTreeMap::new();
        let mut queue = VecDeque::from([from.as_str()]);
        while let Some(at) = queue.pop_front() {
            for next in graph.get(at).into_iter().flatten() {
                if next == from || came_from.contains_key(next.as_str()) {
                    continue;
                }
                came_from.insert(next, at);
                queue.push_back(next);
            }
        }
        for (to, _) in came_from.iter().filter(|(to, _)| adapters.iter().any(|a| a == *to) || **to == APP) {
            let mut path = vec![*to];
            while let Some(prev) = came_from.get(path.last().expect("non-empty")) {
                path.push(prev);
            }
            path.push(from);
            path.reverse();
            path.dedup();
            problems.push(format!("{from} depends on {to} ({})", path.join(" → ")));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(edges: &[(&str, &[&str])]) -> BTreeMap<String, BTreeSet<String>> {
        edges.iter().map(|(n, d)| ((*n).to_owned(), d.iter().map(|s| (*s).to_owned()).collect())).collect()
    }

    #[test]
    fn adapters_table() {
        let core: &[(&str, &[&str])] =
            &[("hub-domain", &[]), ("hub-ports", &["hub-domain"]), ("hub-engine", &["hub-ports"])];
        type Case<'a> = (&'a [(&'a str, &'a [&'a str])], &'a [&'a str]);
        let cases: &[Case<'_>] = &[
            (
                &[
                    ("hub-postgres", &["hub-ports"]),
                    ("hub-http", &["hub-engine"]),
                    ("hub-app", &["hub-http", "hub-postgres"]),
                    ("tiktok-sandbox", &[]),
                ],
                &[],
            ),
            (
                &[
                    ("hub-postgres", &["hub-ports"]),
                    ("hub-http", &["hub-engine", "hub-postgres"]),
                    ("hub-app", &["hub-http"]),
                ],
                &["hub-http depends on hub-postgres (hub-http → hub-postgres)"],
            ),
            (
                // Through a crate that is not an adapter, and a future adapter that exists.
                &[
                    ("hub-web", &["hub-shared"]),
                    ("hub-shared", &["hub-redis"]),
                    ("hub-redis", &[]),
                    ("hub-jobs", &["hub-app"]),
                    ("hub-app", &[]),
                ],
                &[
                    "hub-jobs depends on hub-app (hub-jobs → hub-app)",
                    "hub-shared depends on hub-redis (hub-shared → hub-redis)",
                    "hub-web depends on hub-redis (hub-web → hub-shared → hub-redis)",
                    "hub-web depends on hub-shared (hub-web → hub-shared)",
                ],
            ),
        ];
        for (edges, want) in cases {
            let g = graph(&[core, *edges].concat());
            let mut got = adapter_problems(&g, &adapters(&g));
            got.sort();
            assert_eq!(got, *want, "{edges:?}");
        }
    }

    #[test]
    fn reads_normal_workspace_dependencies_from_cargo_metadata() {
        let json = r#"{"packages": [
            {"name": "hub-http", "manifest_path": "/w/crates/hub-http/Cargo.toml", "dependencies": [
                {"name": "hub-engine", "kind": null}, {"name": "hub-postgres", "kind": "dev"},
                {"name": "serde", "kind": null}, {"name": "hub-tiktok", "kind": "build"}]},
            {"name": "hub-engine", "manifest_path": "/w/crates/hub-engine/Cargo.toml", "dependencies": []},
            {"name": "hub-postgres", "manifest_path": "/w/crates/hub-postgres/Cargo.toml", "dependencies": []},
            {"name": "hub-tiktok", "manifest_path": "/w/crates/hub-tiktok/Cargo.toml", "dependencies": []},
            {"name": "xtask", "manifest_path": "/w/xtask/Cargo.toml", "dependencies": [{"name": "hub-postgres", "kind": null}]}
        ]}"#;
        let g = workspace_graph(json).unwrap();
        assert_eq!(g.keys().collect::<Vec<_>>(), ["hub-engine", "hub-http", "hub-postgres", "hub-tiktok"]);
        assert_eq!(g["hub-http"], BTreeSet::from(["hub-engine".to_owned()]));
        assert_eq!(adapters(&g), ["hub-http", "hub-postgres", "hub-tiktok"]);
        assert!(adapter_problems(&g, &adapters(&g)).is_empty());
    }
}
