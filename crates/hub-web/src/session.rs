//! The signed-in person of a request: [`Viewer`] as an extractor. A request without a valid
//! session is sent to the sign-in page (`?next=` the page it asked for).

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest};

use crate::error::WebError;
use crate::viewer::Viewer;

impl FromRequest for Viewer {
    type Error = WebError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let next = req.uri().path_and_query().map_or_else(|| crate::routes::HOME.to_owned(), |p| p.to_string());
        ready(req.extensions().get::<Viewer>().cloned().ok_or(WebError::SignIn { next }))
    }
}
