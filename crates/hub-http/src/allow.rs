//! The `Allow` header of 405 answers (RFC 9110: required): the methods of each route, taken
//! from the OpenAPI document, where every API route is.

use std::collections::BTreeMap;

use actix_web::http::Method;
use serde_json::{Map, Value};

/// Methods in the order the `Allow` header lists them.
pub(crate) const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/// The methods each route answers, for the `Allow` header of a 405: built from the OpenAPI
/// document's paths (every API route is registered through paperclip, so it is there) plus
/// the documentation routes. Keyed by the actix pattern (`/admin/stores/{store_code}`),
/// which is what the document's paths are made from.
#[derive(Debug, Clone, Default)]
pub(crate) struct AllowTable(BTreeMap<String, Vec<Method>>);

impl AllowTable {
    /// The paths and methods of an OpenAPI document.
    pub(crate) fn from_spec(spec: &Value) -> Self {
        let mut table = Self::default();
        if let Some(paths) = spec.get("paths").and_then(Value::as_object) {
            for (path, item) in paths {
                let methods = item
                    .as_object()
                    .into_iter()
                    .flat_map(Map::keys)
                    .filter(|m| METHODS.contains(&m.as_str()))
                    .filter_map(|m| Method::from_bytes(m.to_ascii_uppercase().as_bytes()).ok());
                table.add(path, methods);
            }
        }
        table
    }

    /// Adds `methods` to the route `pattern`.
    pub(crate) fn add(&mut self, pattern: &str, methods: impl IntoIterator<Item = Method>) {
        let entry = self.0.entry(pattern.to_owned()).or_default();
        for m in methods {
            if !entry.contains(&m) {
                entry.push(m);
            }
        }
        let order = |m: &Method| METHODS.iter().position(|x| x.eq_ignore_ascii_case(m.as_str())).unwrap_or(usize::MAX);
        entry.sort_by_key(order);
    }

    /// The `Allow` value of a route (`GET, POST`), when the route is known.
    pub(crate) fn allow(&self, pattern: &str) -> Option<String> {
        let methods = self.0.get(pattern)?;
        Some(methods.iter().map(Method::as_str).collect::<Vec<_>>().join(", "))
    }

    /// Every route pattern.
    #[cfg(test)]
    pub(crate) fn patterns(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn allow_table_orders_methods() {
        let spec = json!({ "paths": {
            "/a": { "post": {}, "get": {}, "parameters": [] },
            "/b/{id}": { "delete": {} },
        }});
        let mut t = AllowTable::from_spec(&spec);
        assert_eq!(t.allow("/a").as_deref(), Some("GET, POST"));
        assert_eq!(t.allow("/b/{id}").as_deref(), Some("DELETE"));
        assert_eq!(t.allow("/c"), None);
        t.add("/a", [Method::GET]);
        t.add("/c", [Method::GET]);
        assert_eq!(t.allow("/a").as_deref(), Some("GET, POST"));
        assert_eq!(t.patterns().collect::<Vec<_>>(), ["/a", "/b/{id}", "/c"]);
    }
}
