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

/// The checks a handler makes before it acts.
impl Viewer {
    /// Refuses unless the person may operate.
    pub fn require_operator(&self) -> Result<(), WebError> {
        if self.can_operate() { Ok(()) } else { Err(WebError::Forbidden) }
    }

    /// Refuses unless the person is an admin.
    pub fn require_admin(&self) -> Result<(), WebError> {
        if self.can_admin() { Ok(()) } else { Err(WebError::Forbidden) }
    }

    /// Refuses a form whose token is not this session's (compared in constant time).
    pub fn check_csrf(&self, presented: &str) -> Result<(), WebError> {
        let (a, b) = (self.csrf.as_bytes(), presented.as_bytes());
        let same = a.len() == b.len() && !a.is_empty() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0;
        if same { Ok(()) } else { Err(WebError::Csrf) }
    }
}
