//! tokio-stream's wrappers of types that are streams by themselves here:
//! each forwards to the inner type's poll method, for code that names them.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;

use crate::net::{TcpListener, TcpStream};
#[cfg(unix)]
use crate::net::{UnixListener, UnixStream};
#[cfg(unix)]
use crate::signal::unix::Signal;
use crate::time::{Instant, Interval};

/// `new`/`into_inner` and the conversions of a wrapper; `$example`, a
/// doc example that uses both methods, is shown on each.
macro_rules! wrapper_common {
    ($name:ident, $inner:ty, $example:literal) => {
        impl $name {
            /// Wraps `inner`.
            ///
            #[doc = $example]
            pub fn new(inner: $inner) -> Self {
                $name { inner }
            }

            /// The wrapped value.
            ///
            #[doc = $example]
            pub fn into_inner(self) -> $inner {
                self.inner
            }
        }

        impl AsRef<$inner> for $name {
            fn as_ref(&self) -> &$inner {
                &self.inner
            }
        }

        impl AsMut<$inner> for $name {
            fn as_mut(&mut self) -> &mut $inner {
                &mut self.inner
            }
        }

        impl From<$inner> for $name {
            fn from(inner: $inner) -> Self {
                $name { inner }
            }
        }
    };
}

/// An [`Interval`] as a stream of the instants its ticks were scheduled
/// for (tokio-stream's `IntervalStream`). `Interval` is a `Stream` itself;
/// this name is for code written against tokio-stream.
///
/// ```
/// use std::time::Duration;
/// use futures_lite::StreamExt;
/// use moduvex_runtime::stream::IntervalStream;
/// use moduvex_runtime::time;
///
/// moduvex_runtime::block_on(async {
///     let mut ticks = IntervalStream::new(time::interval(Duration::from_millis(1)));
///     let first = ticks.next().await.unwrap();
///     assert_eq!(ticks.next().await, Some(first + Duration::from_millis(1)));
/// });
/// ```
#[derive(Debug)]
pub struct IntervalStream {
    inner: Interval,
}

wrapper_common!(
    IntervalStream,
    Interval,
    "```
use std::time::Duration;
use moduvex_runtime::stream::IntervalStream;
use moduvex_runtime::time;

moduvex_runtime::block_on(async {
    let stream = IntervalStream::new(time::interval(Duration::from_secs(3)));
    assert_eq!(stream.into_inner().period(), Duration::from_secs(3));
});
```"
);

impl Stream for IntervalStream {
    type Item = Instant;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Instant>> {
        self.get_mut().inner.poll_tick(cx).map(Some)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (usize::MAX, None)
    }
}

/// A [`Signal`] as a stream of its deliveries (tokio-stream's
/// `SignalStream`). `Signal` is a `Stream` itself.
///
/// ```
/// use futures_lite::StreamExt;
/// use moduvex_runtime::signal::unix::{signal, SignalKind};
/// use moduvex_runtime::stream::SignalStream;
///
/// moduvex_runtime::block_on(async {
///     let mut usr1 = SignalStream::new(signal(SignalKind::user_defined1())?);
///     // SAFETY: raising a signal the example has a handler for.
///     unsafe { libc::raise(libc::SIGUSR1) };
///     assert_eq!(usr1.next().await, Some(()));
///     Ok::<(), std::io::Error>(())
/// }).unwrap();
/// ```
#[cfg(unix)]
#[derive(Debug)]
pub struct SignalStream {
    inner: Signal,
}

#[cfg(unix)]
wrapper_common!(
    SignalStream,
    Signal,
    "```
use moduvex_runtime::signal::unix::{signal, SignalKind};
use moduvex_runtime::stream::SignalStream;

moduvex_runtime::block_on(async {
    let stream = SignalStream::new(signal(SignalKind::user_defined2())?);
    assert_eq!(stream.into_inner().kind(), SignalKind::user_defined2());
    Ok::<_, std::io::Error>(())
}).unwrap();
```"
);

#[cfg(unix)]
impl Stream for SignalStream {
    type Item = ();

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<()>> {
        self.get_mut().inner.poll_recv(cx)
    }
}

/// A [`TcpListener`] it owns as a stream of accepted connections
/// (tokio-stream's `TcpListenerStream`): each item is
/// [`accept`](TcpListener::accept)'s stream, or its error; it never ends.
///
/// It polls through [`poll_accept`](TcpListener::poll_accept), so only the
/// latest task to poll it is woken; to accept from several tasks, share the
/// listener and give each its own [`incoming`](TcpListener::incoming).
///
/// ```
/// use futures_lite::StreamExt;
/// use moduvex_runtime::net::{TcpListener, TcpStream};
/// use moduvex_runtime::stream::TcpListenerStream;
///
/// moduvex_runtime::block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await?;
///     let addr = listener.local_addr()?;
///     let mut incoming = TcpListenerStream::new(listener);
///     let client = moduvex_runtime::spawn(TcpStream::connect(addr));
///     let server = incoming.next().await.expect("never ends")?;
///     assert_eq!(server.peer_addr()?, client.await.unwrap()?.local_addr()?);
///     Ok::<_, std::io::Error>(())
/// }).unwrap();
/// ```
#[derive(Debug)]
pub struct TcpListenerStream {
    inner: TcpListener,
}

wrapper_common!(
    TcpListenerStream,
    TcpListener,
    "```
use moduvex_runtime::net::TcpListener;
use moduvex_runtime::stream::TcpListenerStream;

moduvex_runtime::block_on(async {
    let listener = TcpListener::bind(\"127.0.0.1:0\").await?;
    let addr = listener.local_addr()?;
    let stream = TcpListenerStream::new(listener);
    assert_eq!(stream.into_inner().local_addr()?, addr);
    Ok::<_, std::io::Error>(())
}).unwrap();
```"
);

impl Stream for TcpListenerStream {
    type Item = io::Result<TcpStream>;

    fn poll_next(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<io::Result<TcpStream>>> {
        self.inner
            .poll_accept(cx)
            .map(|res| Some(res.map(|(stream, _)| stream)))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (usize::MAX, None)
    }
}

/// A [`UnixListener`] it owns as a stream of accepted connections
/// (tokio-stream's `UnixListenerStream`), as [`TcpListenerStream`].
///
/// ```
/// use futures_lite::StreamExt;
/// use moduvex_runtime::net::{UnixListener, UnixStream};
/// use moduvex_runtime::stream::UnixListenerStream;
///
/// moduvex_runtime::block_on(async {
///     let path = std::env::temp_dir().join(format!("mdx-uls-{}", std::process::id()));
///     let _ = std::fs::remove_file(&path);
///     let mut incoming = UnixListenerStream::new(UnixListener::bind(&path)?);
///     let _client = UnixStream::connect(&path).await?;
///     let _server = incoming.next().await.expect("never ends")?;
///     std::fs::remove_file(&path)?;
///     Ok::<_, std::io::Error>(())
/// }).unwrap();
/// ```
#[cfg(unix)]
#[derive(Debug)]
pub struct UnixListenerStream {
    inner: UnixListener,
}

#[cfg(unix)]
wrapper_common!(
    UnixListenerStream,
    UnixListener,
    "```
# #[cfg(target_os = \"linux\")] {
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::SocketAddr;
use moduvex_runtime::net::UnixListener;
use moduvex_runtime::stream::UnixListenerStream;

moduvex_runtime::block_on(async {
    let name = format!(\"moduvex-doc-uls-{}\", std::process::id());
    let listener = UnixListener::bind_addr(&SocketAddr::from_abstract_name(&name)?)?;
    let stream = UnixListenerStream::new(listener);
    let addr = stream.into_inner().local_addr()?;
    assert_eq!(addr.as_abstract_name(), Some(name.as_bytes()));
    Ok::<_, std::io::Error>(())
}).unwrap();
# }
```"
);

#[cfg(unix)]
impl Stream for UnixListenerStream {
    type Item = io::Result<UnixStream>;

    fn poll_next(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<io::Result<UnixStream>>> {
        self.inner
            .poll_accept(cx)
            .map(|res| Some(res.map(|(stream, _)| stream)))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (usize::MAX, None)
    }
}
