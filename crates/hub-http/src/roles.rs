//! What each route needs, for the OpenAPI document: the least role and whether a caller limited
//! to store groups may use it. The decision itself is the engine's (`hub_engine::Permission`,
//! checked by each use case); this table only says it in the document, and the role × route
//! test (`tests/http/roles.rs`) checks that what it says is what the server does.
//!
//! Also the second security scheme: the session cookie (`hub_session`) that paperclip's
//! OpenAPI 2 model cannot state (cookie API keys are OpenAPI 3).

use hub_engine::Permission;
use serde_json::{Value, json};

use crate::allow::METHODS;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rule {
    /// Anyone (no credentials).
    Public,
    /// Any caller with credentials.
    SignedIn,
    /// What the use case checks.
    Needs(Permission),
}

/// Every credentialed route and its rule, as (method, OpenAPI path, rule).
pub(crate) const ROUTE_RULES: &[(&str, &str, Rule)] = {
    use Permission as P;
    use Rule::{Needs, SignedIn};
    &[
        ("get", "/admin/stores", Needs(P::Read)),
        ("post", "/admin/stores", Needs(P::ManageStores)),
        ("get", "/admin/stores/{store_code}", Needs(P::Read)),
        ("patch", "/admin/stores/{store_code}", Needs(P::ManageStores)),
        ("get", "/admin/stores/{store_code}/accounts", Needs(P::Read)),
        ("get", "/admin/stores/{store_code}/user-stats", Needs(P::Read)),
        ("get", "/admin/stores/{store_code}/video-stats", Needs(P::Read)),
        ("get", "/admin/stores/{store_code}/sync-logs", Needs(P::Read)),
        ("post", "/admin/stores/{store_code}/connect-link", Needs(P::ManageStores)),
        ("delete", "/admin/stores/{store_code}/connect-link", Needs(P::ManageStores)),
        ("delete", "/admin/stores/{store_code}", Needs(P::ManageStores)),
        ("post", "/admin/stores/{store_code}/disconnect", Needs(P::ManageStores)),
        ("post", "/admin/stores/{store_code}/restore", Needs(P::ManageStores)),
        ("post", "/admin/stores/import", Needs(P::ManageStores)),
        ("get", "/admin/stores/import/template", Needs(P::Read)),
        ("post", "/admin/sync/run", Needs(P::RunSyncs)),
        ("get", "/admin/sync/status", Needs(P::ReadChainWide)),
        ("get", "/admin/sync/logs", Needs(P::Read)),
        ("get", "/admin/sync/runs/{id}", Needs(P::ReadChainWide)),
        ("get", "/admin/audit-logs", Needs(P::Read)),
        ("get", "/admin/reports/overview", Needs(P::Read)),
        ("get", "/admin/reports/stores", Needs(P::Read)),
        ("get", "/admin/reports/videos/top", Needs(P::Read)),
        ("get", "/admin/reports/gaps", Needs(P::Read)),
        ("get", "/admin/users", Needs(P::Read)),
        ("post", "/admin/users", Needs(P::ManageUsers)),
        ("patch", "/admin/users/{id}", Needs(P::ManageUsers)),
        ("delete", "/admin/users/{id}", Needs(P::ManageUsers)),
        ("get", "/admin/api-keys", Needs(P::Read)),
        ("post", "/admin/api-keys", Needs(P::ManageKeys)),
        ("delete", "/admin/api-keys/{id}", Needs(P::ManageKeys)),
        ("get", "/admin/webhooks", Needs(P::ManageWebhooks)),
        ("post", "/admin/webhooks", Needs(P::ManageWebhooks)),
        ("patch", "/admin/webhooks/{id}", Needs(P::ManageWebhooks)),
        ("delete", "/admin/webhooks/{id}", Needs(P::ManageWebhooks)),
        ("post", "/admin/webhooks/{id}/test", Needs(P::ManageWebhooks)),
        ("get", "/admin/webhooks/{id}/deliveries", Needs(P::ManageWebhooks)),
        ("get", "/metrics", Needs(P::ReadChainWide)),
        ("get", "/auth/me", SignedIn),
        ("post", "/auth/logout", SignedIn),
    ]
};

/// The rule of a route (public when it is not in [`ROUTE_RULES`]).
pub(crate) fn rule(method: &str, path: &str) -> Rule {
    ROUTE_RULES.iter().find(|(m, p, _)| *m == method && *p == path).map_or(Rule::Public, |(_, _, r)| *r)
}

/// What the document says of a rule: the least role, and the scope it needs.
fn says(rule: Rule) -> Option<(&'static str, &'static str)> {
    match rule {
        Rule::Public => None,
        Rule::SignedIn => Some(("viewer", "any")),
        Rule::Needs(p) => {
            Some((p.min_role().as_str(), if p.needs_every_store() { "every-store" } else { "own-groups" }))
        }
    }
}

/// States both security schemes and, on every credentialed operation, the role it needs
/// (`x-required-role`, `x-store-scope` and a line of its description).
pub(crate) fn document(spec: &mut Value) {
    if let Some(schemes) = spec.pointer_mut("/components/securitySchemes").and_then(Value::as_object_mut) {
        schemes.insert(
            "sessionCookie".into(),
            json!({
                "type": "apiKey",
                "in": "cookie",
                "name": crate::authn::SESSION_COOKIE,
                "description": "The session of a signed-in person (POST /auth/login). POST, PATCH and DELETE with it also need the session's X-CSRF-Token header and the hub's own Origin.",
            }),
        );
    }
    let Some(Value::Object(paths)) = spec.get_mut("paths") else { return };
    for (path, item) in paths.iter_mut() {
        let Value::Object(item) = item else { continue };
        for (method, op) in item.iter_mut() {
            if !METHODS.contains(&method.as_str()) {
                continue;
            }
            let Some((role, scope)) = says(rule(method, path)) else { continue };
            op["security"] = json!([{ "apiKey": [] }, { "sessionCookie": [] }]);
            op["x-required-role"] = json!(role);
            op["x-store-scope"] = json!(scope);
            let scope_text = match scope {
                "every-store" => " (and every store: not available to callers limited to store groups)",
                "own-groups" => " (a caller limited to store groups acts only on its groups' stores)",
                _ => "",
            };
            let line = format!("Required role: {role}{scope_text}.");
            let description = op["description"].as_str().map_or_else(|| line.clone(), |d| format!("{d}\n\n{line}"));
            op["description"] = json!(description);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_names_a_route_once() {
        for (i, (m, p, _)) in ROUTE_RULES.iter().enumerate() {
            assert!(METHODS.contains(m), "{m}");
            assert!(!ROUTE_RULES[..i].iter().any(|(m2, p2, _)| m2 == m && p2 == p), "{m} {p} twice");
        }
        assert_eq!(rule("get", "/health"), Rule::Public);
        assert_eq!(says(rule("post", "/admin/users")), Some(("admin", "own-groups")));
        assert_eq!(says(rule("get", "/admin/sync/status")), Some(("viewer", "every-store")));
    }
}
