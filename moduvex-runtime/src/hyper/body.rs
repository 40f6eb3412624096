//! [`ServeBody`]: a service's response body, or the empty body of the 500
//! that [`serve`](super::serve) answers for a panicked service.

use std::pin::Pin;
use std::task::{Context, Poll};

use http_body::{Body, Frame, SizeHint};

/// The response body `serve` hands hyper: the service's own `B`, or none
/// (the body of the 500 answered for a panicked service).
#[derive(Debug)]
pub(crate) struct ServeBody<B> {
    /// # Invariant
    ///
    /// Structurally pinned: never moved or replaced once the `ServeBody`
    /// is pinned (set only in the constructors; no `Drop` impl).
    inner: Option<B>,
}

impl<B> ServeBody<B> {
    pub(crate) fn new(inner: B) -> ServeBody<B> {
        ServeBody { inner: Some(inner) }
    }

    pub(crate) fn empty() -> ServeBody<B> {
        ServeBody { inner: None }
    }

    fn project(self: Pin<&mut Self>) -> Option<Pin<&mut B>> {
        // SAFETY: `inner` is structurally pinned (see its # Invariant): it is never moved out of a pinned `ServeBody`.
        unsafe {
            self.get_unchecked_mut()
                .inner
                .as_mut()
                .map(|b| Pin::new_unchecked(b))
        }
    }
}

impl<B: Body> Body for ServeBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
        match self.project() {
            Some(body) => body.poll_frame(cx),
            None => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.as_ref().is_none_or(Body::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        self.inner
            .as_ref()
            .map_or_else(|| SizeHint::with_exact(0), Body::size_hint)
    }
}

#[cfg(test)]
mod tests {
    use std::pin::pin;

    use super::*;

    /// A body of one data frame.
    struct One(Option<&'static [u8]>);

    impl Body for One {
        type Data = &'static [u8];
        type Error = std::convert::Infallible;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<&'static [u8]>, Self::Error>>> {
            Poll::Ready(self.0.take().map(|d| Ok(Frame::data(d))))
        }
    }

    #[test]
    fn inner_frames_pass_through_and_empty_has_none() {
        let mut cx = Context::from_waker(std::task::Waker::noop());
        let mut body = pin!(ServeBody::new(One(Some(b"hi"))));
        match body.as_mut().poll_frame(&mut cx) {
            Poll::Ready(Some(Ok(frame))) => assert_eq!(frame.into_data().unwrap(), b"hi"),
            _ => panic!("no frame"),
        }
        assert!(matches!(
            body.as_mut().poll_frame(&mut cx),
            Poll::Ready(None)
        ));

        let mut empty = pin!(ServeBody::<One>::empty());
        assert!(empty.is_end_stream());
        assert_eq!(empty.size_hint().exact(), Some(0));
        assert!(matches!(
            empty.as_mut().poll_frame(&mut cx),
            Poll::Ready(None)
        ));
    }
}
