//! Re-embeds the migrations whenever one changes, and fingerprints them (FNV-1a over every
//! file's path and bytes) as `HUB_MIGRATIONS_HASH`, so test templates follow the schema.

use std::path::{Path, PathBuf};

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
    let root = Path::new("../../migrations");
    let mut all = Vec::new();
    files(root, &mut all);
    all.sort();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for path in &all {
        println!("cargo:rerun-if-changed={}", path.display());
        let rel = path.strip_prefix(root).unwrap_or(path).to_string_lossy().into_owned();
        let bytes = std::fs::read(path).unwrap_or_default();
        for b in rel.bytes().chain([0u8]).chain(bytes).chain([0u8]) {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    println!("cargo:rustc-env=HUB_MIGRATIONS_HASH={hash:016x}");
}
