use std::collections::{BTreeMap, BTreeSet};

use super::*;

fn sources(files: &[(&str, &str)]) -> BTreeMap<String, String> {
    files.iter().map(|(p, t)| ((*p).to_owned(), (*t).to_owned())).collect()
}

/// The edges as `from → to` pairs.
fn edges(files: &[(&str, &str)]) -> BTreeSet<(String, String)> {
    let g = graph(&sources(files)).unwrap();
    g.edges.keys().map(|&(a, b)| (g.files[a].clone(), g.files[b].clone())).collect()
}

fn circle_files(files: &[(&str, &str)]) -> Vec<Vec<String>> {
    circles(&graph(&sources(files)).unwrap()).into_iter().map(|c| c.files).collect()
}

fn pairs(raw: &[(&str, &str)]) -> BTreeSet<(String, String)> {
    raw.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect()
}

#[test]
fn edges_table() {
    type Files<'a> = &'a [(&'a str, &'a str)];
    let cases: &[(&str, Files<'_>, Files<'_>)] = &[
        (
            "a use of an item",
            &[("lib.rs", "mod a; mod b;"), ("a.rs", "use crate::b::X;"), ("b.rs", "pub struct X;")],
            &[("a.rs", "b.rs")],
        ),
        (
            "a path in code, a type and a macro body",
            &[
                ("lib.rs", "mod a; mod b; mod c; mod d;"),
                ("a.rs", "fn f() { crate::b::g(); }"),
                ("b.rs", "pub fn g() {}"),
                ("c.rs", "fn f(x: crate::b::X) {}"),
                ("d.rs", r#"fn f() { println!("{}", crate::a::f()); }"#),
            ],
            &[("a.rs", "b.rs"), ("c.rs", "b.rs"), ("d.rs", "a.rs")],
        ),
        (
            "a re-export is followed to the file that defines the item",
            &[
                ("lib.rs", "mod m; mod c;"),
                ("m/mod.rs", "mod inner; pub use inner::Y;"),
                ("m/inner.rs", "pub struct Y;"),
                ("c.rs", "use crate::m::Y;"),
            ],
            &[("m/mod.rs", "m/inner.rs"), ("c.rs", "m/inner.rs")],
        ),
        (
            "a glob import points at the module's file",
            &[("lib.rs", "mod a; mod b;"), ("a.rs", "use crate::b::*;"), ("b.rs", "pub struct X;")],
            &[("a.rs", "b.rs")],
        ),
        (
            "super:: and a child module's name; a non-mod.rs file's child lives in its folder",
            &[("lib.rs", "mod p;"), ("p.rs", "mod q; pub fn f() { q::g() }"), ("p/q.rs", "pub fn g() { super::f() }")],
            &[("p.rs", "p/q.rs"), ("p/q.rs", "p.rs")],
        ),
        (
            "#[cfg(test)] modules, items and files are left out; self-edges too",
            &[
                ("lib.rs", "mod a; mod b; #[cfg(test)] mod t;"),
                (
                    "a.rs",
                    "pub fn f() { self::g(); crate::a::g(); } fn g() {}
                     #[cfg(test)] mod tests { use crate::b::X; }
                     #[cfg(test)] fn helper() { crate::b::h(); }",
                ),
                ("b.rs", "pub struct X; pub fn h() { crate::a::f(); }"),
                ("t.rs", "use crate::a::f; use crate::b::X;"),
            ],
            &[("b.rs", "a.rs")],
        ),
        (
            "an inline module stays in its file; crate:: from inside it",
            &[
                ("lib.rs", "mod a; pub mod outer { pub mod inner { pub fn f() { crate::a::g(); } } }"),
                ("a.rs", "use crate::outer::inner::f; pub fn g() {}"),
            ],
            &[("lib.rs", "a.rs"), ("a.rs", "lib.rs")],
        ),
        (
            "paths from outside the crate, `$crate` and plain names are not followed",
            &[
                ("lib.rs", "mod a; mod b;"),
                ("a.rs", "use std::fmt; use anyhow::Result; macro_rules! m { () => { $crate::b::X } } fn b() {}"),
                ("b.rs", "pub struct X;"),
            ],
            &[],
        ),
        (
            "a main.rs crate root, and a use of a whole module",
            &[
                ("main.rs", "mod a; mod b; fn main() { a::run() }"),
                ("a.rs", "use crate::b; pub fn run() {}"),
                ("b.rs", ""),
            ],
            &[("main.rs", "a.rs"), ("a.rs", "b.rs")],
        ),
    ];
    for (what, files, want) in cases {
        assert_eq!(edges(files), pairs(want), "{what}");
    }
}

#[test]
fn circles_and_their_chain() {
    let files = [
        ("lib.rs", "mod a; mod b; mod c;"),
        ("a.rs", "use crate::b::X;\npub struct Y;"),
        ("b.rs", "pub struct X;\n\nfn f() -> crate::c::Z { todo!() }"),
        ("c.rs", "pub struct Z;\nfn g() {\n    let _ = crate::a::Y;\n}\nuse crate::a::Y;"),
    ];
    let found = circles(&graph(&sources(&files)).unwrap());
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].files, ["a.rs", "b.rs", "c.rs"]);
    let chain: Vec<(&str, &str, usize, &str, bool)> =
        found[0].chain.iter().map(|(a, b, e)| (a.as_str(), b.as_str(), e.line, e.text.as_str(), e.is_use)).collect();
    assert_eq!(
        chain,
        [
            ("a.rs", "b.rs", 1, "crate::b::X", true),
            ("b.rs", "c.rs", 3, "crate::c::Z", false),
            // The `use` is preferred over the earlier path in code.
            ("c.rs", "a.rs", 5, "crate::a::Y", true),
        ]
    );
    let report = Report { crates: 1, files: 4, circles: vec![("x/src".into(), found[0].clone())] };
    assert!(report.describe().contains("    x/src/b.rs:3 path crate::c::Z → c.rs\n"), "{}", report.describe());
}

#[test]
fn circles_table() {
    type Files<'a> = &'a [(&'a str, &'a str)];
    let cases: &[(Files<'_>, &[&[&str]])] = &[
        (&[("lib.rs", "mod a; mod b;"), ("a.rs", "use crate::b::X;"), ("b.rs", "pub struct X;")], &[]),
        (
            &[
                ("lib.rs", "mod a; mod b;"),
                ("a.rs", "use crate::b::X; pub struct Y;"),
                ("b.rs", "use crate::a::Y; pub struct X;"),
            ],
            &[&["a.rs", "b.rs"]],
        ),
        (
            // Through a re-export: c → m/inner.rs → c, while m/mod.rs stays out of it.
            &[
                ("lib.rs", "mod m; mod c;"),
                ("m/mod.rs", "mod inner; pub use inner::Y;"),
                ("m/inner.rs", "pub struct Y; fn f() { crate::c::z(); }"),
                ("c.rs", "use crate::m::Y; pub fn z() {}"),
            ],
            &[&["c.rs", "m/inner.rs"]],
        ),
        (
            // A parent that only dispatches to its children, and children that share a leaf.
            &[
                ("lib.rs", "mod bench;"),
                ("bench/mod.rs", "mod api; mod common; mod db; pub fn run() { api::run(); db::run(); }"),
                ("bench/api.rs", "use super::common::Hub; pub fn run() {}"),
                ("bench/db.rs", "use super::common::{self, Hub}; pub fn run() { common::f() }"),
                ("bench/common.rs", "pub struct Hub; pub fn f() {}"),
            ],
            &[],
        ),
        (
            // The same, but a child reaching back into its parent: a circle.
            &[
                ("lib.rs", "mod bench;"),
                ("bench/mod.rs", "mod api; pub fn run() { api::run(); } pub fn shared() {}"),
                ("bench/api.rs", "pub fn run() { super::shared() }"),
            ],
            &[&["bench/api.rs", "bench/mod.rs"]],
        ),
        (
            &[
                ("lib.rs", "mod a; mod b;"),
                ("a.rs", "pub fn f() {} #[cfg(test)] mod tests { use crate::b::g; }"),
                ("b.rs", "pub fn g() { crate::a::f() }"),
            ],
            &[],
        ),
    ];
    for (files, want) in cases {
        let want: Vec<Vec<String>> = want.iter().map(|c| c.iter().map(|f| (*f).to_owned()).collect()).collect();
        assert_eq!(circle_files(files), want, "{files:?}");
    }
}

#[test]
fn cfg_test_attributes() {
    let attrs = |src: &str| syn::parse_str::<syn::ItemFn>(&format!("{src} fn f() {{}}")).unwrap().attrs;
    for (src, want) in [
        ("#[cfg(test)]", true),
        ("#[cfg(all(test, feature = \"x\"))]", true),
        ("#[cfg(any(test, feature = \"mock\"))]", false),
        ("#[cfg(not(test))]", false),
        ("#[cfg(feature = \"test\")]", false),
        ("#[test]", false),
    ] {
        assert_eq!(is_cfg_test(&attrs(src)), want, "{src}");
    }
}

/// The real xtask/src has no circle (and every file of it is reached from main.rs).
#[test]
fn xtask_itself_has_no_circle() {
    let src = crate::util::root().join("xtask").join("src");
    let sources = read_sources(&src).unwrap();
    let g = graph(&sources).unwrap();
    assert_eq!(g.files.len(), sources.len(), "files not reached from main.rs");
    let found = circles(&g);
    let report = Report {
        crates: 1,
        files: g.files.len(),
        circles: found.into_iter().map(|c| ("xtask/src".into(), c)).collect(),
    };
    assert!(report.circles.is_empty(), "import circles in xtask:\n{}", report.describe());
}
