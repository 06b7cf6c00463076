//! What the request middleware puts in every request: its id and the client's address.

use std::net::IpAddr;

use actix_web::{HttpMessage, HttpRequest};

/// The request id header.
pub(crate) const REQUEST_ID_HEADER: &str = "x-request-id";

/// The request's id, in the request extensions.
#[derive(Debug, Clone)]
pub(crate) struct RequestId(pub String);

/// The client's address, in the request extensions.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClientIp(pub Option<IpAddr>);

/// The request id of a request.
pub(crate) fn request_id(req: &HttpRequest) -> Option<String> {
    req.extensions().get::<RequestId>().map(|r| r.0.clone())
}

/// The client address of a request.
pub(crate) fn client_ip(req: &HttpRequest) -> Option<String> {
    req.extensions().get::<ClientIp>().and_then(|c| c.0).map(|ip| ip.to_string())
}
