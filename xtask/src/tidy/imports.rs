//! `cargo xtask tidy`'s import-circle check: no two files of a crate's `src/` may depend on
//! each other, directly or through others.
//!
//! Each crate's files are parsed with `syn` and mapped to modules from the crate roots
//! (`lib.rs`, `main.rs`) along their `mod` declarations (`a.rs` or `a/mod.rs` is `crate::a`,
//! `a/b.rs` is `crate::a::b`; inline `mod x { … }` stays in its file; `#[path]` is not used in
//! this repository and not followed). A file depends on another when it names something
//! defined there: every `use` and every path in code, types and macro bodies that starts with
//! `crate::`, `super::`, `self::` or a child module's name is walked module by module to the
//! file that defines its item; a name that a module brings in with `use` (a re-export such as
//! `pub use x::Y`) is followed to where it is defined, and a glob import points at the module
//! it names. Items under `#[cfg(test)]` (test modules, test-only files) are left out, and so
//! are a file's references to itself. Every strongly connected component of more than one
//! file is a circle.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::rc::Rc;

use anyhow::{Context, Result};
use proc_macro2::{Spacing, TokenStream, TokenTree};
use syn::visit::{self, Visit};

use super::scc;

/// How one file came to depend on another: its first `use` that does, else its first path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    pub line: usize,
    /// The path as written, e.g. `crate::db::up`.
    pub text: String,
    pub is_use: bool,
}

/// The file-level import graph of one crate's `src/` (paths relative to it: `lib.rs`, `a/b.rs`).
#[derive(Debug, Default)]
pub struct Graph {
    pub files: Vec<String>,
    pub edges: BTreeMap<(usize, usize), Evidence>,
}

/// One circle: the files of a strongly connected component, and one cycle through them as
/// `(from, to, evidence)` steps back to the first file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Circle {
    pub files: Vec<String>,
    pub chain: Vec<(String, String, Evidence)>,
}

/// Builds the graph of a crate from its `src/` files (relative path → text).
pub fn graph(sources: &BTreeMap<String, String>) -> Result<Graph> {
    let mut b = Builder { sources, files: Vec::new(), by_path: BTreeMap::new(), modules: Vec::new() };
    for root in ["lib.rs", "main.rs"] {
        if let Some(file) = b.load(root)? {
            let id = b.new_module(file, None, false);
            b.modules[id].root = id;
            let syntax = Rc::clone(&b.files[file].syntax);
            b.collect(id, &syntax.items, "", false)?;
        }
    }
    let mut g = Graph { files: b.files.iter().map(|f| f.path.clone()).collect(), edges: BTreeMap::new() };
    for (id, module) in b.modules.iter().enumerate() {
        let file = &b.files[module.file];
        let owns_file = module.parent.is_none_or(|p| b.modules[p].file != module.file);
        if !owns_file || module.test {
            continue;
        }
        let mut c = Collector { b: &b, module: id, found: Vec::new() };
        for item in &file.syntax.items {
            c.visit_item(item);
        }
        for f in c.found {
            let Some(target) = b.resolve(f.module, &f.segments, 0) else { continue };
            let to = b.modules[target.module()].file;
            if to == module.file || b.files[to].test {
                continue;
            }
            let evidence = Evidence { line: f.line, text: f.segments.join("::"), is_use: f.is_use };
            let slot = g.edges.entry((module.file, to)).or_insert_with(|| evidence.clone());
            if !slot.is_use && evidence.is_use {
                *slot = evidence;
            }
        }
    }
    Ok(g)
}

/// The circles of a graph, each with its files in name order and a cycle from the first.
pub fn circles(g: &Graph) -> Vec<Circle> {
    let mut next = vec![Vec::new(); g.files.len()];
    for &(from, to) in g.edges.keys() {
        next[from].push(to);
    }
    scc::components(g.files.len(), &next)
        .into_iter()
        .map(|mut component| {
            component.sort_by(|a, b| g.files[*a].cmp(&g.files[*b]));
            let cycle = scc::cycle_through(component[0], &component, &next);
            let chain = cycle
                .windows(2)
                .map(|w| (g.files[w[0]].clone(), g.files[w[1]].clone(), g.edges[&(w[0], w[1])].clone()))
                .collect();
            Circle { files: component.iter().map(|&f| g.files[f].clone()).collect(), chain }
        })
        .collect()
}

/// The workspace's findings: crates and files looked at, and each crate's circles (with the
/// crate's `src/` as seen from the workspace root, e.g. `crates/hub-engine/src`).
#[derive(Debug, Default)]
pub struct Report {
    pub crates: usize,
    pub files: usize,
    pub circles: Vec<(String, Circle)>,
}

impl Report {
    /// One line per step of each circle's example cycle, under a line naming its files.
    pub fn describe(&self) -> String {
        let mut out = String::new();
        for (src, c) in &self.circles {
            out.push_str(&format!("{src}: {} files in a circle: {}\n", c.files.len(), c.files.join(", ")));
            for (from, to, e) in &c.chain {
                let kind = if e.is_use { "use" } else { "path" };
                out.push_str(&format!("    {src}/{from}:{} {kind} {} → {to}\n", e.line, e.text));
            }
        }
        out
    }
}

/// Checks every workspace crate's `src/` (`crates/*/src` but `crates/hub-fuzz`, and `xtask/src`).
pub fn check(root: &Path) -> Result<Report> {
    let mut srcs = Vec::new();
    for entry in std::fs::read_dir(root.join("crates")).context("reading crates/")? {
        let dir = entry?.path();
        if dir.file_name().is_some_and(|n| n != "hub-fuzz") && dir.join("src").is_dir() {
            srcs.push(dir.join("src"));
        }
    }
    srcs.sort();
    srcs.push(root.join("xtask").join("src"));
    let mut report = Report::default();
    for src in srcs {
        let sources = read_sources(&src)?;
        let g = graph(&sources).with_context(|| format!("reading {}", src.display()))?;
        report.crates += 1;
        report.files += g.files.len();
        let shown = src.strip_prefix(root).unwrap_or(&src).display().to_string();
        report.circles.extend(circles(&g).into_iter().map(|c| (shown.clone(), c)));
    }
    Ok(report)
}

/// Every `.rs` file under `src`, by its path relative to `src` (with `/`).
pub fn read_sources(src: &Path) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    let mut dirs = vec![src.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
            let path = entry?.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(src).expect("under src").to_string_lossy().replace('\\', "/");
                let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
                out.insert(rel, text);
            }
        }
    }
    Ok(out)
}

struct File {
    path: String,
    syntax: Rc<syn::File>,
    /// Reached only through `#[cfg(test)]` modules.
    test: bool,
}

struct Module {
    /// The file that holds its items (an inline module's is its parent's).
    file: usize,
    parent: Option<usize>,
    /// The crate root of its tree.
    root: usize,
    children: BTreeMap<String, usize>,
    items: BTreeSet<String>,
    /// Names brought in by `use` (or `pub use`): name → the path as written.
    uses: BTreeMap<String, Vec<String>>,
    globs: Vec<Vec<String>>,
    test: bool,
}

struct Builder<'a> {
    sources: &'a BTreeMap<String, String>,
    files: Vec<File>,
    by_path: BTreeMap<String, usize>,
    modules: Vec<Module>,
}

impl Builder<'_> {
    /// Parses the file at `path` once; `None` if there is no such file.
    fn load(&mut self, path: &str) -> Result<Option<usize>> {
        if let Some(&i) = self.by_path.get(path) {
            return Ok(Some(i));
        }
        let Some(text) = self.sources.get(path) else { return Ok(None) };
        let syntax = syn::parse_file(text).with_context(|| format!("cannot parse {path}"))?;
        self.files.push(File { path: path.to_owned(), syntax: Rc::new(syntax), test: true });
        self.by_path.insert(path.to_owned(), self.files.len() - 1);
        Ok(Some(self.files.len() - 1))
    }

    fn new_module(&mut self, file: usize, parent: Option<usize>, test: bool) -> usize {
        let root = parent.map_or(self.modules.len(), |p| self.modules[p].root);
        self.files[file].test &= test;
        self.modules.push(Module {
            file,
            parent,
            root,
            children: BTreeMap::new(),
            items: BTreeSet::new(),
            uses: BTreeMap::new(),
            globs: Vec::new(),
            test,
        });
        self.modules.len() - 1
    }

    /// Records the items of module `m`; `dir` is where its child modules' files live.
    fn collect(&mut self, m: usize, items: &[syn::Item], dir: &str, test: bool) -> Result<()> {
        for item in items {
            let test = test || is_cfg_test(item_attrs(item));
            match item {
                syn::Item::Mod(im) => {
                    let name = im.ident.to_string();
                    let child_dir = if dir.is_empty() { name.clone() } else { format!("{dir}/{name}") };
                    let child = match &im.content {
                        Some((_, inner)) => {
                            let child = self.new_module(self.modules[m].file, Some(m), test);
                            self.collect(child, inner, &child_dir, test)?;
                            child
                        }
                        None => {
                            let file = match self.load(&format!("{child_dir}.rs"))? {
                                Some(f) => f,
                                None => match self.load(&format!("{child_dir}/mod.rs"))? {
                                    Some(f) => f,
                                    None => continue,
                                },
                            };
                            let child = self.new_module(file, Some(m), test);
                            let syntax = Rc::clone(&self.files[file].syntax);
                            self.collect(child, &syntax.items, &child_dir, test)?;
                            child
                        }
                    };
                    self.modules[m].children.insert(name, child);
                }
                syn::Item::Use(u) if !test => {
                    let mut found = Vec::new();
                    flatten_use(&u.tree, &mut Vec::new(), &mut found);
                    for (path, name) in found {
                        match name {
                            UseName::Glob => self.modules[m].globs.push(path),
                            UseName::Name(n) if n != "_" => {
                                self.modules[m].uses.insert(n, path);
                            }
                            UseName::Name(_) => {}
                        }
                    }
                }
                _ => {
                    if let Some(name) = item_name(item) {
                        self.modules[m].items.insert(name);
                    }
                }
            }
        }
        Ok(())
    }

    /// Whether a path seen in module `m` is one this check follows.
    fn is_local(&self, m: usize, segments: &[String]) -> bool {
        match segments.first().map(String::as_str) {
            Some("crate" | "self" | "super") => true,
            Some(first) => self.modules[m].children.contains_key(first),
            None => false,
        }
    }

    /// The module whose file defines what `segments` (as written in module `from`) names.
    fn resolve(&self, from: usize, segments: &[String], depth: u32) -> Option<Target> {
        if depth > 32 {
            return None;
        }
        let mut cur = from;
        let mut rest = segments;
        match segments.first()?.as_str() {
            "crate" => (cur, rest) = (self.modules[from].root, &segments[1..]),
            "self" => rest = &segments[1..],
            "super" => {
                while rest.first().is_some_and(|s| s == "super") {
                    cur = self.modules[cur].parent?;
                    rest = &rest[1..];
                }
            }
            first if self.modules[from].children.contains_key(first) => {}
            _ => return None,
        }
        self.walk(cur, rest, depth)
    }

    fn walk(&self, mut cur: usize, segments: &[String], depth: u32) -> Option<Target> {
        for (i, s) in segments.iter().enumerate() {
            let m = &self.modules[cur];
            if let Some(&child) = m.children.get(s) {
                cur = child;
                continue;
            }
            if m.items.contains(s) {
                return Some(Target::In(cur));
            }
            if let Some(path) = m.uses.get(s) {
                // A name brought in by `use` (a re-export): on from where it points. One from
                // outside the crate stops here.
                match self.resolve(cur, path, depth + 1) {
                    Some(Target::Module(t)) => {
                        cur = t;
                        continue;
                    }
                    Some(t) => return Some(t),
                    None => return Some(Target::In(cur)),
                }
            }
            for glob in &m.globs {
                if let Some(Target::Module(g)) = self.resolve(cur, glob, depth + 1)
                    && self.defines(g, s)
                {
                    return self.walk(g, &segments[i..], depth + 1);
                }
            }
            return Some(Target::In(cur));
        }
        Some(Target::Module(cur))
    }

    fn defines(&self, m: usize, name: &str) -> bool {
        let m = &self.modules[m];
        m.children.contains_key(name) || m.items.contains(name) || m.uses.contains_key(name)
    }
}

/// What a path names: a module, or an item defined in a module.
#[derive(Debug, Clone, Copy)]
enum Target {
    Module(usize),
    In(usize),
}

impl Target {
    fn module(self) -> usize {
        match self {
            Self::Module(m) | Self::In(m) => m,
        }
    }
}

enum UseName {
    Name(String),
    Glob,
}

/// Every leaf of a `use` tree: the full path and the name it binds (or a glob).
fn flatten_use(tree: &syn::UseTree, prefix: &mut Vec<String>, out: &mut Vec<(Vec<String>, UseName)>) {
    match tree {
        syn::UseTree::Path(p) => {
            prefix.push(p.ident.to_string());
            flatten_use(&p.tree, prefix, out);
            prefix.pop();
        }
        syn::UseTree::Name(n) if n.ident == "self" => {
            out.push((prefix.clone(), UseName::Name(prefix.last().cloned().unwrap_or_default())));
        }
        syn::UseTree::Name(n) => {
            let mut path = prefix.clone();
            path.push(n.ident.to_string());
            out.push((path, UseName::Name(n.ident.to_string())));
        }
        syn::UseTree::Rename(r) => {
            let mut path = prefix.clone();
            if r.ident != "self" {
                path.push(r.ident.to_string());
            }
            out.push((path, UseName::Name(r.rename.to_string())));
        }
        syn::UseTree::Glob(_) => out.push((prefix.clone(), UseName::Glob)),
        syn::UseTree::Group(g) => {
            for t in &g.items {
                flatten_use(t, prefix, out);
            }
        }
    }
}

fn item_attrs(item: &syn::Item) -> &[syn::Attribute] {
    use syn::Item as I;
    match item {
        I::Const(i) => &i.attrs,
        I::Enum(i) => &i.attrs,
        I::ExternCrate(i) => &i.attrs,
        I::Fn(i) => &i.attrs,
        I::ForeignMod(i) => &i.attrs,
        I::Impl(i) => &i.attrs,
        I::Macro(i) => &i.attrs,
        I::Mod(i) => &i.attrs,
        I::Static(i) => &i.attrs,
        I::Struct(i) => &i.attrs,
        I::Trait(i) => &i.attrs,
        I::TraitAlias(i) => &i.attrs,
        I::Type(i) => &i.attrs,
        I::Union(i) => &i.attrs,
        I::Use(i) => &i.attrs,
        _ => &[],
    }
}

fn item_name(item: &syn::Item) -> Option<String> {
    use syn::Item as I;
    let ident = match item {
        I::Const(i) => &i.ident,
        I::Enum(i) => &i.ident,
        I::ExternCrate(i) => i.rename.as_ref().map_or(&i.ident, |(_, r)| r),
        I::Fn(i) => &i.sig.ident,
        I::Macro(i) => i.ident.as_ref()?,
        I::Static(i) => &i.ident,
        I::Struct(i) => &i.ident,
        I::Trait(i) => &i.ident,
        I::TraitAlias(i) => &i.ident,
        I::Type(i) => &i.ident,
        I::Union(i) => &i.ident,
        _ => return None,
    };
    Some(ident.to_string())
}

/// `#[cfg(test)]` or `#[cfg(all(test, …))]`: compiled for tests only.
fn is_cfg_test(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        let syn::Meta::List(list) = &a.meta else { return false };
        if !list.path.is_ident("cfg") {
            return false;
        }
        let text: String = list.tokens.to_string().chars().filter(|c| !c.is_whitespace()).collect();
        text == "test" || (text.starts_with("all(") && text[4..].split([',', ')']).any(|part| part == "test"))
    })
}

/// A path found in a file, with the module it was written in.
struct Found {
    module: usize,
    segments: Vec<String>,
    line: usize,
    is_use: bool,
}

struct Collector<'a, 'b> {
    b: &'a Builder<'b>,
    module: usize,
    found: Vec<Found>,
}

impl Collector<'_, '_> {
    fn push(&mut self, segments: Vec<String>, line: usize, is_use: bool) {
        self.found.push(Found { module: self.module, segments, line, is_use });
    }

    /// Paths (`a::b::c`) in a macro's tokens that start locally.
    fn scan(&mut self, tokens: TokenStream) {
        let flat: Vec<TokenTree> = tokens.into_iter().collect();
        let mut i = 0;
        while i < flat.len() {
            match &flat[i] {
                TokenTree::Group(g) => self.scan(g.stream()),
                TokenTree::Ident(id) => {
                    let after_dollar = i > 0 && matches!(&flat[i - 1], TokenTree::Punct(p) if p.as_char() == '$');
                    let mut segments = vec![id.to_string()];
                    let mut j = i + 1;
                    while is_path_sep(&flat[j..]) {
                        let Some(TokenTree::Ident(next)) = flat.get(j + 2) else { break };
                        segments.push(next.to_string());
                        j += 3;
                    }
                    if !after_dollar && segments.len() > 1 && self.b.is_local(self.module, &segments) {
                        self.push(segments, id.span().start().line, false);
                    }
                    i = j;
                    continue;
                }
                _ => {}
            }
            i += 1;
        }
    }
}

fn is_path_sep(tokens: &[TokenTree]) -> bool {
    matches!(
        tokens,
        [TokenTree::Punct(a), TokenTree::Punct(b), ..]
            if a.as_char() == ':' && a.spacing() == Spacing::Joint && b.as_char() == ':'
    )
}

impl<'ast> Visit<'ast> for Collector<'_, '_> {
    fn visit_item(&mut self, item: &'ast syn::Item) {
        if !is_cfg_test(item_attrs(item)) {
            visit::visit_item(self, item);
        }
    }

    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        // `mod x;` is visited as its own file; an inline module in its own context.
        let Some((_, items)) = &m.content else { return };
        let Some(&child) = self.b.modules[self.module].children.get(&m.ident.to_string()) else { return };
        let outer = std::mem::replace(&mut self.module, child);
        for item in items {
            self.visit_item(item);
        }
        self.module = outer;
    }

    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        if !is_cfg_test(&f.attrs) {
            visit::visit_impl_item_fn(self, f);
        }
    }

    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        let line = u.use_token.span.start().line;
        let mut found = Vec::new();
        flatten_use(&u.tree, &mut Vec::new(), &mut found);
        for (segments, _) in found {
            if u.leading_colon.is_none() && self.b.is_local(self.module, &segments) {
                self.push(segments, line, true);
            }
        }
    }

    fn visit_path(&mut self, p: &'ast syn::Path) {
        let segments: Vec<String> = p.segments.iter().map(|s| s.ident.to_string()).collect();
        if p.leading_colon.is_none() && segments.len() > 1 && self.b.is_local(self.module, &segments) {
            let line = p.segments[0].ident.span().start().line;
            self.push(segments, line, false);
        }
        visit::visit_path(self, p);
    }

    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        self.scan(m.tokens.clone());
        visit::visit_macro(self, m);
    }
}

#[cfg(test)]
mod tests;
