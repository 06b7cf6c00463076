//! Streams of pages: every list the engine serves is read in pages, each one query on a
//! pooled connection given back before the next, so memory stays flat however long a list
//! or export is, and a slow client simply stops the stream being polled. JSON answers
//! collect the pages; CSV answers stream them.

use std::future::Future;

use futures::StreamExt;
use futures::stream::{self, BoxStream};
use hub_ports::RepoResult;

/// Rows per page of a list or export.
pub const PAGE: i64 = 1000;

/// A stream of pages.
pub type Pages<T, E> = BoxStream<'static, Result<Vec<T>, E>>;

/// Pages of `fetch(after, limit)` until a short page; `cursor` gives the next `after`.
pub(crate) fn keyset<T, C, E, F, Fut>(limit: i64, fetch: F, cursor: fn(&T) -> C) -> Pages<T, E>
where
    T: Send + 'static,
    C: Send + 'static,
    E: From<hub_ports::RepoError> + Send + 'static,
    F: Fn(Option<C>, i64) -> Fut + Send + 'static,
    Fut: Future<Output = RepoResult<Vec<T>>> + Send + 'static,
{
    stream::try_unfold((Some(None::<C>), fetch), move |(after, fetch)| async move {
        let Some(after) = after else { return Ok(None) };
        let rows = fetch(after, limit).await?;
        if rows.is_empty() {
            return Ok(None);
        }
        let next = ((rows.len() as i64) >= limit).then(|| rows.last().map(cursor)).flatten();
        Ok(Some((rows, (next.map(Some), fetch))))
    })
    .boxed()
}

/// Every row of `pages`, in order.
pub async fn collect<T, E>(mut pages: Pages<T, E>) -> Result<Vec<T>, E> {
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        out.extend(page?);
    }
    Ok(out)
}
