//! People and their credentials: users (CLI and admin API), sign-in sessions, personal API
//! keys. Passwords are hashed with argon2id off the async runtime; session tokens and keys are
//! stored only as SHA-256.
//!
//! - `service`: the service, its errors, the rule that nobody grants more than they have;
//!   `users`: people; `keys`: API keys and their authentication; `login`: sign-in, sessions,
//!   CSRF tokens; `password`: hashing; `cookie`: the session cookie and the same-origin rule
//!   every adapter that signs people in shares.

mod cookie;
mod keys;
mod login;
mod password;
mod service;
mod users;

pub use cookie::{ClientContext, SESSION_COOKIE, SignInAttempt, SignInBlocked, same_origin, session_cookie};
pub use keys::{AddKey, CreatedKey, KEY_PREFIX, MAX_KEY_DAYS};
pub use login::LoggedIn;
pub use password::{HashError, PasswordParams};
pub use service::{AuthError, People, PeopleConfig, PeopleError};
pub use users::{AddUser, ChangeUser};
