//! Moving tokens at rest to the newest key, after a key rotation.
//!
//! Walks the accounts by id in pages; each row is rewritten with one compare-and-swap, so
//! the command can be killed at any point and run again: rows already on the newest key
//! are skipped, a row changed meanwhile (e.g. by a refresh, which writes with the newest
//! key anyway) is left alone.

use hub_domain::{AccountId, EncryptedTokens};
use hub_ports::{CipherError, RepoError};

use crate::cipher::{TokenKind, binding};
use crate::system::System;

/// What a re-encryption pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReencryptReport {
    pub scanned: u64,
    pub rewritten: u64,
    pub already_current: u64,
    /// Rows changed by someone else during the pass (they hold fresh ciphertexts).
    pub raced: u64,
    /// Rows whose ciphertext no configured key opens.
    pub undecryptable: u64,
}

/// Why a pass stopped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReencryptError {
    #[error(transparent)]
    Storage(#[from] RepoError),
}

impl System {
    /// Re-encrypts every stored token pair that is not on the newest key.
    pub async fn reencrypt_tokens(&self, page_size: i64) -> Result<ReencryptReport, ReencryptError> {
        let p = &self.ports;
        let mut report = ReencryptReport::default();
        let mut after = AccountId(0);
        loop {
            let page = p.accounts.list_with_tokens_after(after, page_size.max(1)).await?;
            let Some(last) = page.last() else { break };
            after = last.id;
            for account in page {
                report.scanned += 1;
                let Some(old) = account.tokens.clone() else { continue };
                if !p.cipher.is_stale(&old.access) && !p.cipher.is_stale(&old.refresh) {
                    report.already_current += 1;
                    continue;
                }
                let code = account.store_code.as_str();
                let (ab, rb) = (binding(code, TokenKind::Access), binding(code, TokenKind::Refresh));
                let opened: Result<_, CipherError> =
                    p.cipher.decrypt(&old.access, &ab).and_then(|a| Ok((a, p.cipher.decrypt(&old.refresh, &rb)?)));
                let Ok((access, refresh)) = opened else {
                    tracing::warn!(store.code = %code, "stored tokens do not decrypt with any configured key");
                    report.undecryptable += 1;
                    continue;
                };
                let new = EncryptedTokens {
                    access: p.cipher.encrypt(access.expose(), &ab),
                    refresh: p.cipher.encrypt(refresh.expose(), &rb),
                };
                if p.accounts.replace_ciphertexts(account.id, &old, &new).await? {
                    report.rewritten += 1;
                } else {
                    report.raced += 1;
                }
            }
        }
        tracing::info!(
            scanned = report.scanned,
            rewritten = report.rewritten,
            raced = report.raced,
            undecryptable = report.undecryptable,
            "token re-encryption finished"
        );
        Ok(report)
    }
}
