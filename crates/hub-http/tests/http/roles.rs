//! The role × route table: every route of the served OpenAPI document, called with no
//! credentials, a viewer's key, an operator's key, an admin's key, and a key of an operator
//! limited to store group `north` asking for a `south` store (or, where a route names no store,
//! doing the same thing within its limits). The answer class of each call is in [`TABLE`]; a
//! route of the document missing from the table fails the test, so a new route cannot ship
//! without a rule. The document's stated role (`x-required-role`, `x-store-scope`) is checked
//! against what the server did, too.

use actix_web::test::TestRequest;
use hub_domain::*;
use hub_engine::{JobSelection, RunScope};
use serde_json::json;

use crate::people_support::*;
use crate::support::*;

/// What an answer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum C {
    /// 2xx (or a redirect).
    Ok,
    /// 400 INVALID_REQUEST (or a 400 page).
    Bad,
    /// 401 UNAUTHORIZED.
    Auth,
    /// 403 FORBIDDEN.
    Deny,
    /// 404 STORE_NOT_FOUND / NOT_FOUND.
    Gone,
}

use C::*;

/// The callers, in the table's column order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Col {
    NoCredentials,
    Viewer,
    Operator,
    Admin,
    /// An operator key limited to `north`, asking for `south`.
    NorthOnSouth,
}

const COLS: [Col; 5] = [Col::NoCredentials, Col::Viewer, Col::Operator, Col::Admin, Col::NorthOnSouth];

/// Every route: (method, OpenAPI path, [no credentials, viewer, operator, admin, north key on south]).
const TABLE: &[(&str, &str, [C; 5])] = &[
    ("get", "/health", [Ok, Ok, Ok, Ok, Ok]),
    ("get", "/health/live", [Ok, Ok, Ok, Ok, Ok]),
    ("get", "/health/ready", [Ok, Ok, Ok, Ok, Ok]),
    ("get", "/", [Ok, Ok, Ok, Ok, Ok]),
    ("get", "/metrics", [Auth, Ok, Ok, Ok, Deny]),
    // Stores
    ("get", "/admin/stores", [Auth, Ok, Ok, Ok, Ok]),
    ("post", "/admin/stores", [Auth, Deny, Ok, Ok, Deny]),
    ("get", "/admin/stores/{store_code}", [Auth, Ok, Ok, Ok, Gone]),
    ("patch", "/admin/stores/{store_code}", [Auth, Deny, Ok, Ok, Gone]),
    ("get", "/admin/stores/{store_code}/accounts", [Auth, Ok, Ok, Ok, Gone]),
    ("get", "/admin/stores/{store_code}/user-stats", [Auth, Ok, Ok, Ok, Gone]),
    ("get", "/admin/stores/{store_code}/video-stats", [Auth, Ok, Ok, Ok, Gone]),
    ("get", "/admin/stores/{store_code}/sync-logs", [Auth, Ok, Ok, Ok, Gone]),
    ("post", "/admin/stores/{store_code}/connect-link", [Auth, Deny, Ok, Ok, Gone]),
    // A store's lifecycle: operator, a store in the caller's groups.
    ("delete", "/admin/stores/{store_code}/connect-link", [Auth, Deny, Ok, Ok, Gone]),
    ("delete", "/admin/stores/{store_code}", [Auth, Deny, Ok, Ok, Gone]),
    ("post", "/admin/stores/{store_code}/disconnect", [Auth, Deny, Ok, Ok, Gone]),
    ("post", "/admin/stores/{store_code}/restore", [Auth, Deny, Ok, Ok, Gone]),
    // A south row in a north importer's file is an invalid row: the whole file is refused.
    ("post", "/admin/stores/import", [Auth, Deny, Ok, Ok, Bad]),
    ("get", "/admin/stores/import/template", [Auth, Ok, Ok, Ok, Ok]),
    // Sync
    ("post", "/admin/sync/run", [Auth, Deny, Ok, Ok, Gone]),
    ("get", "/admin/sync/status", [Auth, Ok, Ok, Ok, Deny]),
    ("get", "/admin/sync/logs", [Auth, Ok, Ok, Ok, Gone]),
    ("get", "/admin/sync/runs/{id}", [Auth, Ok, Ok, Ok, Deny]),
    ("get", "/admin/audit-logs", [Auth, Ok, Ok, Ok, Ok]),
    // Reports (a scoped caller's are over its stores; top videos of a south store: 404)
    ("get", "/admin/reports/overview", [Auth, Ok, Ok, Ok, Ok]),
    ("get", "/admin/reports/stores", [Auth, Ok, Ok, Ok, Ok]),
    ("get", "/admin/reports/videos/top", [Auth, Ok, Ok, Ok, Gone]),
    ("get", "/admin/reports/gaps", [Auth, Ok, Ok, Ok, Ok]),
    // People
    ("get", "/admin/users", [Auth, Ok, Ok, Ok, Ok]),
    ("post", "/admin/users", [Auth, Deny, Deny, Ok, Deny]),
    ("patch", "/admin/users/{id}", [Auth, Deny, Deny, Ok, Deny]),
    ("delete", "/admin/users/{id}", [Auth, Deny, Deny, Ok, Deny]),
    ("get", "/admin/api-keys", [Auth, Ok, Ok, Ok, Ok]),
    // The north key asks for a south key.
    ("post", "/admin/api-keys", [Auth, Deny, Ok, Ok, Deny]),
    // Someone else's key answers like a missing one.
    ("delete", "/admin/api-keys/{id}", [Auth, Deny, Ok, Ok, Gone]),
    // Notification endpoints: admins over every store (a scoped key is refused).
    ("get", "/admin/webhooks", [Auth, Deny, Deny, Ok, Deny]),
    ("post", "/admin/webhooks", [Auth, Deny, Deny, Ok, Deny]),
    ("patch", "/admin/webhooks/{id}", [Auth, Deny, Deny, Ok, Deny]),
    ("delete", "/admin/webhooks/{id}", [Auth, Deny, Deny, Ok, Deny]),
    ("post", "/admin/webhooks/{id}/test", [Auth, Deny, Deny, Ok, Deny]),
    ("get", "/admin/webhooks/{id}/deliveries", [Auth, Deny, Deny, Ok, Deny]),
    // Auth (a key has no session to end)
    ("post", "/auth/login", [Ok, Ok, Ok, Ok, Ok]),
    ("post", "/auth/logout", [Auth, Bad, Bad, Bad, Bad]),
    ("get", "/auth/me", [Auth, Ok, Ok, Ok, Ok]),
    // OAuth: public; without a connect link 403, a forged callback 400.
    ("get", "/connect/tiktok", [Deny, Deny, Deny, Deny, Deny]),
    ("get", "/auth/url", [Deny, Deny, Deny, Deny, Deny]),
    ("get", "/auth/tiktok/callback", [Bad, Bad, Bad, Bad, Bad]),
    // TikTok's webhook: public, authenticated by its signature (none here: 401 for everyone).
    ("post", "/webhooks/tiktok", [Auth, Auth, Auth, Auth, Auth]),
];

/// One fresh world per call: stores in two groups, people of every role and their keys.
struct World {
    h: Harness,
    /// The key each column sends.
    keys: [Option<String>; 5],
    /// A user every column may try to change.
    target_user: i64,
    /// The key each column tries to revoke (its own second key; the north key: another's).
    revocable: [i64; 5],
}

async fn world() -> World {
    let h = harness();
    {
        let mut w = h.world();
        w.add_store_in("north1", "north");
        w.add_store_in("south1", "south");
    }
    let admin = as_user(&add_user(&h, "admin@example.com", Role::Admin, StoreScope::All).await);
    let operator = as_user(&add_user(&h, "operator@example.com", Role::Operator, StoreScope::All).await);
    let north = as_user(&add_user(&h, "north@example.com", Role::Operator, groups(&["north"])).await);
    let target = add_user(&h, "target@example.com", Role::Viewer, StoreScope::All).await;
    let (viewer_key, _) = add_key(&h, &admin, "viewer", Role::Viewer, StoreScope::All).await;
    let (operator_key, _) = add_key(&h, &operator, "operator", Role::Operator, StoreScope::All).await;
    let (admin_key, _) = add_key(&h, &admin, "admin", Role::Admin, StoreScope::All).await;
    let (north_key, _) = add_key(&h, &north, "north", Role::Operator, groups(&["north"])).await;
    let (_, operator_second) = add_key(&h, &operator, "operator 2", Role::Viewer, StoreScope::All).await;
    let (_, admin_second) = add_key(&h, &admin, "admin 2", Role::Viewer, StoreScope::All).await;
    // Endpoint 1 for /admin/webhooks/{id}.
    let hook = hub_engine::AddEndpoint {
        url: "https://hooks.example.com/hub".into(),
        events: vec![WebhookEvent::StoreConnected],
        format: WebhookFormat::Standard,
        include_connect_link: false,
    };
    h.state.engine().notifications().add(&Actor::cli(), hook).await.unwrap();
    // A run for /admin/sync/runs/{id}.
    h.state.engine().syncs().run(JobSelection::User, &RunScope::All, RunTrigger::Cli).await.unwrap();
    World {
        keys: [None, Some(viewer_key), Some(operator_key), Some(admin_key), Some(north_key)],
        target_user: target.id.0,
        revocable: [operator_second, operator_second, operator_second, admin_second, operator_second],
        h,
    }
}

/// The call of `method path` that column `col` makes.
fn request(w: &World, method: &str, path: &str, col: Col) -> TestRequest {
    let i = COLS.iter().position(|c| *c == col).unwrap();
    let north = col == Col::NorthOnSouth;
    let (store, group) = if north { ("south1", "south") } else { ("north1", "north") };
    let uri = path.replace("{store_code}", store).replace(
        "{id}",
        &match path {
            p if p.starts_with("/admin/users/") => w.target_user.to_string(),
            p if p.starts_with("/admin/api-keys/") => w.revocable[i].to_string(),
            _ => "1".to_owned(),
        },
    );
    let uri = match path {
        "/admin/sync/logs" | "/admin/reports/videos/top" => format!("{uri}?store_code={store}"),
        "/connect/tiktok" | "/auth/url" => format!("{uri}?store_code={store}&invite=not-a-link"),
        "/auth/tiktok/callback" => format!("{uri}?code=c&state=forged"),
        _ => uri,
    };
    let mut req = TestRequest::default()
        .method(actix_web::http::Method::from_bytes(method.to_ascii_uppercase().as_bytes()).unwrap())
        .uri(&uri)
        .peer_addr(format!("198.51.100.{}:4000", 10 + i).parse().unwrap());
    if let Some(key) = &w.keys[i] {
        req = req.insert_header(("X-API-KEY", key.as_str()));
    }
    let body = match (method, path) {
        ("post", "/admin/stores") => {
            Some(json!({"store_code": "new1", "store_name": "New", "pic_name": "P", "store_group": group}))
        }
        ("patch", "/admin/stores/{store_code}") => Some(json!({"pic_name": "Q"})),
        ("post", "/admin/sync/run") => Some(json!({"store_code": store, "job": "user"})),
        ("post", "/admin/users") => Some(json!({"email": "new@example.com", "role": "viewer", "password": PASSWORD})),
        ("patch", "/admin/users/{id}") => Some(json!({"name": "Renamed"})),
        ("post", "/admin/api-keys") => Some(json!({"name": "k", "role": "viewer", "store_groups": [group]})),
        ("post", "/admin/webhooks") => {
            Some(json!({"url": "https://hooks.example.com/new", "events": ["store.connected"]}))
        }
        ("patch", "/admin/webhooks/{id}") => Some(json!({"enabled": false})),
        ("post", "/auth/login") => Some(json!({"email": "target@example.com", "password": PASSWORD})),
        _ => None,
    };
    if let Some(b) = body {
        req = req.set_json(b);
    }
    if (method, path) == ("post", "/admin/stores/import") {
        req = req
            .insert_header(("Content-Type", "text/csv"))
            .set_payload(format!("store_code,store_name,pic_name,store_group\nimp1,Imported,P,{group}\n"));
    }
    req
}

fn class(status: u16, body: &str) -> C {
    let code = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|b| b["error"]["code"].as_str().map(str::to_owned));
    match status {
        200..=399 => Ok,
        400 => Bad,
        401 => Auth,
        403 => {
            // The envelope's code where the answer is JSON (the OAuth routes answer a page).
            assert!(code.as_deref().is_none_or(|c| c == "FORBIDDEN"), "403 with {code:?}");
            Deny
        }
        404 => Gone,
        other => panic!("unexpected status {other}: {body}"),
    }
}

#[actix_web::test]
async fn every_route_answers_each_role_and_scope_as_the_table_says() {
    let doc = {
        let h = harness();
        let app = app!(h);
        let (_, _, doc) = call_json!(app, get("/api/openapi.json"));
        doc
    };
    let mut routes = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            routes.push((method.clone(), path.clone(), op.clone()));
        }
    }
    let missing: Vec<String> = routes
        .iter()
        .filter(|(m, p, _)| !TABLE.iter().any(|(tm, tp, _)| tm == m && tp == p))
        .map(|(m, p, _)| format!("{m} {p}"))
        .collect();
    assert!(missing.is_empty(), "routes without a rule in the role × route table: {missing:?}");
    let stale: Vec<String> = TABLE
        .iter()
        .filter(|(m, p, _)| !routes.iter().any(|(rm, rp, _)| rm == m && rp == p))
        .map(|(m, p, _)| format!("{m} {p}"))
        .collect();
    assert!(stale.is_empty(), "rules of routes the document does not have: {stale:?}");

    let mut wrong = Vec::new();
    for (method, path, op) in &routes {
        let want = TABLE.iter().find(|(m, p, _)| m == method && p == path).unwrap().2;
        let mut got = [Ok; 5];
        for (i, col) in COLS.into_iter().enumerate() {
            let w = world().await;
            let app = app!(w.h);
            let (status, _, body) = call!(app, request(&w, method, path, col));
            got[i] = class(status, &body);
        }
        if got != want {
            wrong.push(format!("{method} {path}: want {want:?}, got {got:?}"));
        }
        // What the document says is what the server does.
        if let Some(role) = op["x-required-role"].as_str() {
            let least = ["viewer", "operator", "admin"].iter().position(|r| *r == role).unwrap();
            for (i, r) in ["viewer", "operator", "admin"].iter().enumerate() {
                if (got[i + 1] == Deny) != (i < least) {
                    wrong.push(format!("{method} {path}: documented for {role}, a {r} got {:?}", got[i + 1]));
                }
            }
            if op["x-store-scope"] == "every-store" && got[4] != Deny {
                wrong.push(format!("{method} {path}: documented for every store only, a scoped key got {:?}", got[4]));
            }
        }
    }
    assert!(wrong.is_empty(), "the role × route table and the server disagree:\n{}", wrong.join("\n"));
}

/// A refusal is one `DENIED` audit row naming the caller; a store outside the scope is not a
/// refusal but a missing store (404, like one that does not exist).
#[actix_web::test]
async fn a_refusal_writes_one_denied_row_naming_the_key() {
    let w = world().await;
    let app = app!(w.h);
    let before = w.h.world().audit.len();
    let (status, _, body) = call_json!(app, request(&w, "post", "/admin/users", Col::Viewer));
    assert_eq!(status, 403);
    assert_error(&body, "FORBIDDEN");
    let audit = w.h.world().audit[before..].to_vec();
    assert_eq!(audit.len(), 1, "{audit:?}");
    let row = &audit[0];
    assert_eq!((row.action.as_str(), row.outcome), ("user.create", AuditOutcome::Denied));
    assert_eq!(row.actor_kind, ActorKind::ApiKey);
    assert_eq!(row.actor_name.as_deref(), Some("viewer"));
    assert!(row.actor.starts_with("apikey:"), "{}", row.actor);
    // The same answer for a south store as for one that does not exist.
    let (s1, _, b1) = call_json!(app, request(&w, "get", "/admin/stores/{store_code}", Col::NorthOnSouth));
    let nowhere = request(&w, "get", "/admin/stores/{store_code}", Col::NorthOnSouth).uri("/admin/stores/nowhere");
    let (s2, _, b2) = call_json!(app, nowhere);
    assert_eq!((s1, s2), (404, 404));
    assert_eq!(b1["error"]["code"], b2["error"]["code"]);
    assert_eq!(b1["error"]["message"], b2["error"]["message"]);
}
