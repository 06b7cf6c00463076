//! `tiktok-hub user …`: people from the command line (the first admin, a forgotten password),
//! through the engine's use cases as the `cli` actor (admin over every store; audited).

use std::io::Read;

use anyhow::{Context, bail};
use clap::Subcommand;
use hub_domain::{Actor, DisplayName, Email, Password, Role, StoreGroup, StoreScope, User};
use hub_engine::{AddUser, Engine};

/// `tiktok-hub user …`.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user. Without --password-stdin a strong password is generated and printed once.
    Add {
        /// The email the person signs in with.
        email: String,
        /// viewer | operator | admin
        #[arg(long)]
        role: String,
        /// Display name (default: the email's local part).
        #[arg(long)]
        name: Option<String>,
        /// Limit the user to these store groups (comma-separated, existing groups); default:
        /// every store.
        #[arg(long)]
        groups: Option<String>,
        /// Read the password from standard input (one line) instead of generating one.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List the users.
    List,
    /// Set a user's password (read from standard input); ends their sessions.
    SetPassword {
        email: String,
        /// Read the password from standard input (one line). Required.
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// Disable a user: their sessions end and their API keys stop working.
    Disable { email: String },
}

/// A password from standard input: everything read, less one trailing line break.
fn password_from_stdin() -> anyhow::Result<Password> {
    let mut raw = String::new();
    std::io::stdin().read_to_string(&mut raw).context("reading the password from standard input")?;
    let raw = raw.strip_suffix('\n').map(|r| r.strip_suffix('\r').unwrap_or(r)).unwrap_or(&raw);
    if raw.is_empty() {
        bail!("no password on standard input");
    }
    Password::parse(raw).map_err(|e| anyhow::anyhow!("{e}"))
}

/// A random password of 24 base64url characters (144 bits).
fn generated_password() -> Password {
    loop {
        if let Ok(p) = Password::parse(&hub_engine::state::random_token(18)) {
            return p;
        }
    }
}

fn groups_text(scope: &StoreScope) -> String {
    scope.names().map_or_else(|| "every store".to_owned(), |g| format!("groups {}", g.join(",")))
}

fn line(u: &User) -> String {
    let last = u.last_login_at.map_or_else(|| "never".to_owned(), |t| t.to_rfc3339());
    let state = if u.active { "active" } else { "disabled" };
    format!("{}\t{}\t{}\t{}\t{}\t{state}\tlast login {last}", u.id.0, u.email, u.name, u.role, groups_text(&u.scope))
}

fn email(raw: &str) -> anyhow::Result<Email> {
    Email::parse(raw).map_err(|e| anyhow::anyhow!("{e}"))
}

/// Runs a `user` command.
pub async fn run(engine: &Engine, command: UserCommand) -> anyhow::Result<()> {
    let cli = Actor::cli();
    let people = engine.people();
    match command {
        UserCommand::Add { email: raw, role, name, groups, password_stdin } => {
            let role = Role::parse(&role).map_err(|e| anyhow::anyhow!("--role: {e}"))?;
            let scope = match groups {
                None => StoreScope::All,
                Some(list) => StoreScope::groups(
                    list.split(',')
                        .map(|g| StoreGroup::parse_field(g.trim(), "store_groups"))
                        .collect::<Result<_, _>>()
                        .map_err(|e| anyhow::anyhow!("--groups: {e}"))?,
                ),
            };
            let name = name.map(|n| DisplayName::parse(&n)).transpose().map_err(|e| anyhow::anyhow!("--name: {e}"))?;
            let (password, generated) =
                if password_stdin { (password_from_stdin()?, false) } else { (generated_password(), true) };
            let shown = generated.then(|| password.expose().to_owned());
            let add = AddUser { email: email(&raw)?, name, role, scope, password };
            let user = people.add_user(&cli, add).await?;
            println!("created user {} {} ({}, {})", user.id.0, user.email, user.role, groups_text(&user.scope));
            if let Some(p) = shown {
                println!("password (shown once, store it now): {p}");
            }
        }
        UserCommand::List => {
            println!("id\temail\tname\trole\tstores\tstate\tlast login");
            for u in people.users(&cli).await? {
                println!("{}", line(&u));
            }
        }
        UserCommand::SetPassword { email: raw, password_stdin: _ } => {
            let password = password_from_stdin()?;
            let user = people.set_password(&cli, &email(&raw)?, password).await?;
            println!("password set for user {} {}; their sessions ended", user.id.0, user.email);
        }
        UserCommand::Disable { email: raw } => {
            let user = people.user_by_email(&cli, &email(&raw)?).await?;
            let user = people.disable_user(&cli, user.id).await?;
            println!("disabled user {} {}; their sessions and API keys no longer work", user.id.0, user.email);
        }
    }
    Ok(())
}
