//! [`ConnService`]: a tower service as hyper's per-connection service.
//!
//! The one idea: every request gets its own clone of the user's service
//! (tower's `poll_ready` then `call`, as hyper-util's `TowerToHyperService`),
//! the peer address as an extension, and a `catch_unwind` around the
//! whole call, so a panicking handler costs its request a 500 and nothing
//! else.

use std::error::Error as StdError;
use std::future::{poll_fn, Future};
use std::panic::AssertUnwindSafe;
use std::pin::Pin;

use ::hyper::body::Incoming;
use futures_lite::FutureExt;
use http::{header, Request, Response, StatusCode};
use tower_service::Service;

use super::body::ServeBody;
use super::ConnectInfo;

/// hyper's service for one connection: the user's service and the peer.
pub(crate) struct ConnService<S, A> {
    pub(crate) svc: S,
    pub(crate) peer: A,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, A, B> ::hyper::service::Service<Request<Incoming>> for ConnService<S, A>
where
    S: Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn StdError + Send + Sync>>,
    A: Clone + Send + Sync + 'static,
    B: Send + 'static,
{
    type Response = Response<ServeBody<B>>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Self::Response, S::Error>>;

    fn call(&self, mut req: Request<Incoming>) -> Self::Future {
        req.extensions_mut().insert(ConnectInfo(self.peer.clone()));
        let mut svc = self.svc.clone();
        Box::pin(async move {
            // The handler's state is dropped with its panic; nothing of it is
            // observed afterwards, so unwind safety holds.
            let call = AssertUnwindSafe(async move {
                poll_fn(|cx| svc.poll_ready(cx)).await?;
                svc.call(req).await
            });
            match call.catch_unwind().await {
                Ok(res) => res.map(|resp| resp.map(ServeBody::new)),
                Err(_panic) => Ok(internal_error()),
            }
        })
    }
}

/// The answer for a request whose service panicked.
fn internal_error<B>() -> Response<ServeBody<B>> {
    let mut resp = Response::new(ServeBody::empty());
    *resp.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    resp.headers_mut().insert(
        header::CONTENT_LENGTH,
        header::HeaderValue::from_static("0"),
    );
    resp
}
