//! Sockets: TCP, UDP and Unix-domain, driven by this thread's reactor.
//!
//! TCP and UDP exist everywhere; Unix-domain sockets ([`unix`],
//! `UnixStream`, `UnixListener`, `UnixDatagram`) only on Unix
//! (`cfg(unix)`), as in std and tokio.
//!
//! The one idea: **every socket is an [`IoSource`] over the std type, and
//! every operation is "try the syscall, and wait for readiness only when the
//! kernel says `WouldBlock`".** Readiness is cached per direction and cleared
//! only by an operation that proved it stale (a `WouldBlock`, or a short read
//! or write on a stream, which means the kernel buffer was drained or
//! filled), so an edge is never lost and an idle socket costs no syscalls.
//!
//! Descriptors are non-blocking and close-on-exec from the syscall that
//! creates them (`socket(SOCK_NONBLOCK | SOCK_CLOEXEC)`, `accept4`). Stream
//! writes use `send`/`sendmsg` with `MSG_NOSIGNAL`, so writing to a closed
//! peer is a `BrokenPipe` error, never a `SIGPIPE`. Socket options go
//! through `socket2`.
//!
//! Beside the futures, every socket has tokio's readiness API:
//! `ready(Interest)`, `readable()`, `writable()`, the `poll_*_ready`
//! methods and the `try_*` operations, which never wait. A `try_*` that
//! returns `WouldBlock` clears the readiness it ran on, so the next wait
//! sleeps until the kernel reports a new edge (see
//! [`Interest`](crate::io::Interest)).
//!
//! Host names are resolved on a helper thread (the system resolver blocks);
//! numeric addresses are parsed inline. See [`ToSocketAddrs`].
//!
//! [`IoSource`]: crate::reactor::IoSource
//!
//! ```
//! use moduvex_runtime::io::{AsyncReadExt, AsyncWriteExt};
//! use moduvex_runtime::net::{TcpListener, TcpStream};
//!
//! moduvex_runtime::block_on(async {
//!     let listener = TcpListener::bind("127.0.0.1:0").await?;
//!     let addr = listener.local_addr()?;
//!     moduvex_runtime::spawn(async move {
//!         let (mut s, _) = listener.accept().await?;
//!         s.write_all(b"welcome").await?;
//!         Ok::<_, std::io::Error>(())
//!     });
//!     let mut s = TcpStream::connect(addr).await?;
//!     let mut greeting = String::new();
//!     s.read_to_string(&mut greeting).await?;
//!     assert_eq!(greeting, "welcome");
//!     Ok::<_, std::io::Error>(())
//! }).unwrap();
//! ```

mod addr;
pub(crate) mod os;
pub mod split;
mod stream_io;
pub mod tcp;
mod udp;
#[cfg(unix)]
pub mod unix;

pub use addr::{lookup_host, ToSocketAddrs};
pub use tcp::{TcpListener, TcpSocket, TcpStream};
pub use udp::UdpSocket;
#[cfg(unix)]
pub use unix::{UnixDatagram, UnixListener, UnixStream};
