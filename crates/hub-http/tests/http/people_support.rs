//! People for the tests: users of each role, their personal keys, and sign-ins.
#![allow(dead_code)]

use hub_domain::*;
use hub_engine::{AddKey, AddUser, EngineConfig, PasswordParams, PeopleConfig};

use crate::support::*;

/// The password of every test user.
pub const PASSWORD: &str = "correct horse battery staple 9";

/// Cheap hashing: the tests check behaviour, not the cost.
pub fn engine_config() -> EngineConfig {
    EngineConfig {
        people: PeopleConfig {
            password: PasswordParams { memory_kib: 1024, iterations: 1, parallelism: 1 },
            ..PeopleConfig::default()
        },
        ..EngineConfig::default()
    }
}

/// A harness with cheap hashing.
pub fn harness() -> Harness {
    Harness::with(http_config(), engine_config())
}

/// The actor of a signed-in user.
pub fn as_user(u: &User) -> Actor {
    Actor {
        principal: Principal::User { id: u.id, email: u.email.clone() },
        role: u.role,
        scope: u.scope.clone(),
        request_id: None,
        ip: None,
    }
}

pub fn groups(names: &[&str]) -> StoreScope {
    StoreScope::groups(names.iter().map(|n| StoreGroup::parse(n).unwrap()).collect())
}

/// Adds a user (through the engine, as the command line does).
pub async fn add_user(h: &Harness, email: &str, role: Role, scope: StoreScope) -> User {
    let add = AddUser {
        email: Email::parse(email).unwrap(),
        name: None,
        role,
        scope,
        password: Password::parse(PASSWORD).unwrap(),
    };
    h.state.engine().people().add_user(&Actor::cli(), add).await.unwrap()
}

/// A key `by` creates (its owner), with `role` and `scope`; the key's secret and its id.
pub async fn add_key(h: &Harness, by: &Actor, name: &str, role: Role, scope: StoreScope) -> (String, i64) {
    let add = AddKey { name: KeyName::parse(name).unwrap(), role, scope, expires_in_days: None };
    let created = h.state.engine().people().create_key(by, add).await.unwrap();
    (created.secret.expose().clone(), created.key.id.0)
}

/// Signs in over HTTP; the session cookie (`hub_session=…`) and the CSRF token.
#[macro_export]
macro_rules! sign_in {
    ($app:expr, $email:expr) => {{
        let body = serde_json::json!({"email": $email, "password": $crate::people_support::PASSWORD});
        let res = actix_web::test::call_service(&$app, post("/auth/login").set_json(&body).to_request()).await;
        assert_eq!(res.status().as_u16(), 200, "sign-in of {}", $email);
        let cookie = res
            .response()
            .cookies()
            .find(|c| c.name() == "hub_session")
            .map(|c| format!("hub_session={}", c.value()))
            .expect("a session cookie");
        let body: serde_json::Value = actix_web::test::read_body_json(res).await;
        (cookie, body["data"]["csrfToken"].as_str().unwrap().to_owned())
    }};
}
