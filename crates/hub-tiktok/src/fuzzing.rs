//! Entry points for the fuzz targets of `crates/hub-fuzz` (feature `fuzzing`): one answer's
//! status and body through the decoding the client applies to it, without a network.

use hub_ports::{TikTokError, TikTokUser, TikTokVideo, TokenGrant, VideoPage};

use crate::answers::{data_of, grant_of, page_of, user_of, videos_from};
use crate::client::scrub;
use crate::decode;
use crate::stats::Endpoint;

/// The call an answer belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    Token,
    Revoke,
    UserInfo,
    VideoList,
    VideoQuery,
}

impl Call {
    /// Every call, in a fixed order (for picking one from a fuzz input).
    pub const ALL: [Self; 5] = [Self::Token, Self::Revoke, Self::UserInfo, Self::VideoList, Self::VideoQuery];
}

/// What the client returns for a successful answer.
#[derive(Debug)]
pub enum Answer {
    Grant(TokenGrant),
    Revoked,
    User(TikTokUser),
    Page(VideoPage),
    Videos(Vec<TikTokVideo>),
}

/// Decodes `body` answered with `status` to `call`, as the client does; errors are scrubbed of
/// `secrets` (the call's tokens and client secret) like the client's.
pub fn answer(call: Call, status: u16, body: &[u8], secrets: &[&str]) -> Result<Answer, TikTokError> {
    let success = decode::decode(status, body).outcome.map_err(|e| scrub(e, secrets))?;
    match call {
        Call::Token => grant_of(success).map(Answer::Grant),
        Call::Revoke => Ok(Answer::Revoked),
        Call::UserInfo => data_of(Endpoint::UserInfo, success).and_then(|d| user_of(&d)).map(Answer::User),
        Call::VideoList => data_of(Endpoint::VideoList, success).map(|d| Answer::Page(page_of(&d))),
        Call::VideoQuery => data_of(Endpoint::VideoQuery, success).map(|d| Answer::Videos(videos_from(&d))),
    }
}

/// A `Retry-After` header value as the client reads it.
pub fn retry_after(value: &str) -> Option<std::time::Duration> {
    decode::retry_after(Some(value))
}
