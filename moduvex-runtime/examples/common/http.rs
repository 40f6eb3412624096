//! A minimal HTTP/1.1 request framer and "Hello, world!" responder, shared
//! by the `hello` example, its tests and the benchmark.
//!
//! The one idea: the server parses only what it needs to find request
//! boundaries (the request line, `Content-Length`, `Connection`), in a
//! fixed 8 KiB buffer that never grows. Pipelined requests are answered in
//! order from one read; anything malformed gets a 400, anything that does
//! not fit gets a 431 or 413, and the connection is closed after it.
//!
//! Keep-alive follows the request's version: HTTP/1.1 stays open unless it
//! says `Connection: close`; HTTP/1.0 closes unless it says
//! `Connection: keep-alive`, and then the answer says it too (an HTTP/1.0
//! client such as `ab -k` otherwise waits for the server to close).

#![allow(dead_code)] // each includer uses its own subset

use std::future::{poll_fn, Future};
use std::io;
use std::pin::{pin, Pin};
use std::task::Poll;
use std::time::Duration;

use moduvex_runtime::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use moduvex_runtime::time::{sleep, timeout_at, Instant, Sleep};

/// Largest request (headers and body) a connection may buffer.
pub const MAX_REQUEST: usize = 8 * 1024;

/// The keep-alive answer to every well-formed request.
pub const HELLO: &[u8] =
    b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\nContent-Type: text/plain\r\n\r\nHello, world!";
/// The answer to an HTTP/1.0 request that asked to keep the connection.
pub const HELLO_KEEP_ALIVE: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\nContent-Type: text/plain\r\nConnection: keep-alive\r\n\r\nHello, world!";
/// The answer to a request that asked to close the connection (or, on
/// HTTP/1.0, did not ask to keep it).
pub const HELLO_CLOSE: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nHello, world!";
/// Malformed request.
pub const BAD_REQUEST: &[u8] =
    b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
/// Request line and headers larger than [`MAX_REQUEST`].
pub const HEADERS_TOO_LARGE: &[u8] = b"HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
/// Body that would not fit in [`MAX_REQUEST`].
pub const PAYLOAD_TOO_LARGE: &[u8] =
    b"HTTP/1.1 413 Content Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

/// What the front of a buffer holds.
#[derive(Debug, PartialEq, Eq)]
pub enum Parse {
    /// A whole request of `len` bytes, and what becomes of the connection
    /// after its answer.
    Request { len: usize, connection: Connection },
    /// The start of a request: read more.
    Partial,
    /// Unanswerable: send this response and close.
    Reject(&'static [u8]),
}

/// What becomes of a connection after a request's answer.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum Connection {
    /// Kept open, as HTTP/1.1's default: the answer need not say so.
    KeepAlive,
    /// Kept open because an HTTP/1.0 request asked: the answer says
    /// `Connection: keep-alive`.
    KeepAliveAnnounced,
    /// Closed after the answer, which says `Connection: close`.
    Close,
}

/// RFC 9110 `tchar`s, by byte value.
const TOKEN: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = c.is_ascii_alphanumeric()
            || matches!(
                c,
                b'!' | b'#'..=b'\'' | b'*' | b'+' | b'-' | b'.' | b'^' | b'_' | b'`' | b'|' | b'~'
            );
        b += 1;
    }
    t
};

fn is_token(b: u8) -> bool {
    TOKEN[b as usize]
}

/// One pass over `buf`: where the head ends (the first `\r\n\r\n`), and
/// whether a lone `\n` (not after `\r`) or a NUL comes before it (or
/// anywhere, when there is no end yet): requests must use CRLF.
fn scan_head(buf: &[u8]) -> (Option<usize>, bool) {
    let mut bad = false;
    for (i, &b) in buf.iter().enumerate() {
        if b > b'\n' {
            continue;
        }
        if b == 0 {
            bad = true;
        } else if b == b'\n' {
            if i == 0 || buf[i - 1] != b'\r' {
                bad = true;
            } else if i >= 3 && buf[i - 3] == b'\r' && buf[i - 2] == b'\n' {
                // The "\r\n\r\n" itself holds no bad byte: `bad` is the head's.
                return (Some(i - 3), bad);
            }
        }
    }
    (None, bad)
}

/// Frames the request at the start of `buf`.
pub fn parse(buf: &[u8]) -> Parse {
    let (end, bad_line_ending) = scan_head(buf);
    let Some(head_end) = end else {
        if bad_line_ending || first_line_is_bad(buf) {
            return Parse::Reject(BAD_REQUEST);
        }
        if buf.len() >= MAX_REQUEST {
            return Parse::Reject(HEADERS_TOO_LARGE);
        }
        return Parse::Partial;
    };
    let head = &buf[..head_end];
    if head_end + 4 > MAX_REQUEST {
        return Parse::Reject(HEADERS_TOO_LARGE);
    }
    if bad_line_ending {
        return Parse::Reject(BAD_REQUEST);
    }
    let mut lines = head
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let Some(http11) = lines.next().and_then(request_line) else {
        return Parse::Reject(BAD_REQUEST);
    };
    let (mut asks_close, mut asks_keep_alive) = (false, false);
    let mut content_length: Option<usize> = None;
    for line in lines {
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            return Parse::Reject(BAD_REQUEST);
        };
        let (name, value) = (&line[..colon], trim(&line[colon + 1..]));
        if name.is_empty() || !name.iter().copied().all(is_token) {
            return Parse::Reject(BAD_REQUEST);
        }
        if value.iter().any(|&b| b < 0x20 && b != b'\t' || b == 0x7f) {
            return Parse::Reject(BAD_REQUEST);
        }
        if name.eq_ignore_ascii_case(b"content-length") {
            let Some(n) = parse_decimal(value) else {
                return Parse::Reject(BAD_REQUEST);
            };
            if content_length.is_some_and(|old| old != n) {
                return Parse::Reject(BAD_REQUEST);
            }
            content_length = Some(n);
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            // Chunked bodies are not supported by this tiny server.
            return Parse::Reject(BAD_REQUEST);
        } else if name.eq_ignore_ascii_case(b"connection") {
            asks_close |= contains_token(value, b"close");
            asks_keep_alive |= contains_token(value, b"keep-alive");
        }
    }
    let body = content_length.unwrap_or(0);
    let len = match (head_end + 4).checked_add(body) {
        Some(len) if len <= MAX_REQUEST => len,
        _ => return Parse::Reject(PAYLOAD_TOO_LARGE),
    };
    if buf.len() < len {
        return Parse::Partial;
    }
    let connection = match (asks_close, http11, asks_keep_alive) {
        (true, _, _) | (false, false, false) => Connection::Close,
        (false, true, _) => Connection::KeepAlive,
        (false, false, true) => Connection::KeepAliveAnnounced,
    };
    Parse::Request { len, connection }
}

/// A complete first line that is not a request line (a client speaking
/// something else) is rejected before waiting for the rest.
fn first_line_is_bad(buf: &[u8]) -> bool {
    match buf.windows(2).position(|w| w == b"\r\n") {
        Some(end) => request_line(&buf[..end]).is_none(),
        None => false,
    }
}

/// `METHOD SP target SP HTTP/1.x`; returns whether it is HTTP/1.1.
fn request_line(line: &[u8]) -> Option<bool> {
    let mut parts = line.split(|&b| b == b' ');
    let method = parts.next()?;
    let target = parts.next()?;
    let version = parts.next()?;
    if parts.next().is_some() || method.is_empty() || !method.iter().copied().all(is_token) {
        return None;
    }
    if target.is_empty() || target.iter().any(|&b| b <= 0x20 || b == 0x7f) {
        return None;
    }
    match version {
        b"HTTP/1.1" => Some(true),
        b"HTTP/1.0" => Some(false),
        _ => None,
    }
}

fn trim(mut v: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = v {
        v = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = v {
        v = rest;
    }
    v
}

fn parse_decimal(v: &[u8]) -> Option<usize> {
    if v.is_empty() || v.len() > 10 || !v.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(v).ok()?.parse().ok()
}

fn contains_token(value: &[u8], token: &[u8]) -> bool {
    value
        .split(|&b| b == b',')
        .any(|t| trim(t).eq_ignore_ascii_case(token))
}

/// What the connection should do after a read was processed.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum Flow {
    /// Keep reading requests.
    Continue,
    /// Send what was produced, then close (the client asked to).
    Close,
    /// Send the error response produced, then close.
    Reject,
}

/// One connection's request buffer: fixed size, never grows.
pub struct Session {
    buf: Box<[u8; MAX_REQUEST]>,
    filled: usize,
}

impl Default for Session {
    fn default() -> Self {
        Session::new()
    }
}

impl Session {
    /// An empty session.
    pub fn new() -> Session {
        Session {
            buf: Box::new([0; MAX_REQUEST]),
            filled: 0,
        }
    }

    /// Where the next read should go (never empty while the flow is
    /// `Continue`).
    pub fn read_buf(&mut self) -> &mut [u8] {
        &mut self.buf[self.filled..]
    }

    /// Whether part of a request is buffered.
    pub fn has_partial(&self) -> bool {
        self.filled > 0
    }

    /// Bytes the session holds in memory: always [`MAX_REQUEST`].
    pub fn footprint(&self) -> usize {
        self.buf.len()
    }

    /// Accounts for `n` bytes read into [`read_buf`](Self::read_buf) and
    /// appends the answers to every complete request to `out`.
    pub fn process(&mut self, n: usize, out: &mut Vec<u8>) -> Flow {
        self.filled += n;
        let mut start = 0;
        let flow = loop {
            match parse(&self.buf[start..self.filled]) {
                Parse::Request { len, connection } => {
                    start += len;
                    match connection {
                        Connection::KeepAlive => out.extend_from_slice(HELLO),
                        Connection::KeepAliveAnnounced => out.extend_from_slice(HELLO_KEEP_ALIVE),
                        Connection::Close => {
                            out.extend_from_slice(HELLO_CLOSE);
                            break Flow::Close;
                        }
                    }
                }
                Parse::Partial => break Flow::Continue,
                Parse::Reject(response) => {
                    out.extend_from_slice(response);
                    break Flow::Reject;
                }
            }
        };
        self.buf.copy_within(start..self.filled, 0);
        self.filled -= start;
        flow
    }
}

/// Timeouts of a served connection.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// How long an idle keep-alive connection is kept: it is closed after
    /// between `idle` and twice `idle` without a request (see [`serve`]).
    pub idle: Duration,
    /// How long a client may take to send one whole request once it has
    /// started (defeats slowloris clients that trickle bytes).
    pub request: Duration,
    /// How long a rejected client's leftover input is discarded before
    /// closing (so the error response is not lost to a reset).
    pub linger: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            idle: Duration::from_secs(30),
            request: Duration::from_secs(10),
            linger: Duration::from_secs(2),
        }
    }
}

/// A connection's one timer (see [`serve`]).
struct Clock {
    timer: Sleep,
    limits: Limits,
    /// The connection made progress since the timer was last armed.
    active: bool,
    /// When the buffered partial request must be complete.
    request_deadline: Option<Instant>,
}

impl Clock {
    fn new(limits: Limits) -> Clock {
        Clock {
            timer: sleep(limits.idle),
            limits,
            active: false,
            request_deadline: None,
        }
    }

    /// Runs `fut` until it completes (`Some`) or the connection has timed
    /// out (`None`).
    async fn run<F: Future>(&mut self, fut: F) -> Option<F::Output> {
        let mut fut = pin!(fut);
        loop {
            let fired = poll_fn(|cx| match fut.as_mut().poll(cx) {
                Poll::Ready(out) => Poll::Ready(Some(out)),
                Poll::Pending => Pin::new(&mut self.timer).poll(cx).map(|()| None),
            })
            .await;
            match fired {
                Some(out) => return Some(out),
                None if self.rearm() => {}
                None => return None,
            }
        }
    }

    /// The timer fired: arm it again if the connection is still within its
    /// limits, else say it is over.
    fn rearm(&mut self) -> bool {
        let now = Instant::now();
        let next = match self.request_deadline {
            Some(d) if d <= now => return false,
            Some(d) => d.min(now + self.limits.idle),
            None if std::mem::take(&mut self.active) => now + self.limits.idle,
            None => return false,
        };
        Pin::new(&mut self.timer).reset(next);
        true
    }

    /// Whether part of a request is now buffered: starts (or ends) the
    /// request deadline, pulling the timer in if it is earlier.
    fn partial(&mut self, partial: bool) {
        self.request_deadline = match (partial, self.request_deadline) {
            (false, _) => None,
            (true, Some(d)) => Some(d),
            (true, None) => {
                let d = Instant::now() + self.limits.request;
                if d < self.timer.deadline() {
                    Pin::new(&mut self.timer).reset(d);
                }
                Some(d)
            }
        };
    }
}

/// Serves one connection until the client closes, a timeout passes, or a
/// request is rejected.
///
/// One timer per connection, armed `idle` ahead and *not* moved on every
/// request (that would read the clock and touch the timer wheel twice per
/// request): when it fires, a connection that made progress (read a
/// request, or wrote part of an answer) since it was armed gets `idle`
/// more, and one that did not is closed. While part of a request is
/// buffered the timer is pulled in to that request's deadline (the clock
/// is read only then).
pub async fn serve<S>(mut stream: S, limits: Limits) -> io::Result<()>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut session = Session::new();
    let mut out = Vec::with_capacity(1024);
    let mut clock = Clock::new(limits);
    loop {
        let Some(n) = clock.run(stream.read(session.read_buf())).await else {
            return Ok(());
        };
        let n = n?;
        if n == 0 {
            return Ok(());
        }
        clock.active = true;
        let flow = session.process(n, &mut out);
        let mut written = 0;
        while written < out.len() {
            let Some(n) = clock.run(stream.write(&out[written..])).await else {
                return Ok(());
            };
            match n {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    written += n;
                    clock.active = true;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        out.clear();
        match flow {
            Flow::Continue => {}
            Flow::Close => return stream.close().await,
            Flow::Reject => return linger(stream, limits.linger).await,
        }
        clock.partial(session.has_partial());
    }
}

/// Shuts writes down, then discards input until the client closes or
/// `linger` passes, in the session-sized buffer.
async fn linger<S>(mut stream: S, linger: Duration) -> io::Result<()>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    stream.close().await?;
    let deadline = Instant::now() + linger;
    let mut sink = [0u8; 4096];
    loop {
        match timeout_at(deadline, stream.read(&mut sink)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => return Ok(()),
            Ok(Ok(_)) => {}
        }
    }
}
