//! A minimal HTTP/1.1 request framer and "Hello, world!" responder, shared
//! by the `hello` example, its tests and the benchmark.
//!
//! The one idea: the server parses only what it needs to find request
//! boundaries (the request line, `Content-Length`, `Connection`), in a
//! fixed 8 KiB buffer that never grows. Pipelined requests are answered in
//! order from one read; anything malformed gets a 400, anything that does
//! not fit gets a 431 or 413, and the connection is closed after it.

#![allow(dead_code)] // each includer uses its own subset

use std::io;
use std::time::Duration;

use moduvex_runtime::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use moduvex_runtime::time::{timeout_at, Instant};

/// Largest request (headers and body) a connection may buffer.
pub const MAX_REQUEST: usize = 8 * 1024;

/// The keep-alive answer to every well-formed request.
pub const HELLO: &[u8] =
    b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\nContent-Type: text/plain\r\n\r\nHello, world!";
/// The answer to a request that asked to close the connection.
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
    /// A whole request of `len` bytes; `close`: the client wants the
    /// connection closed after the answer.
    Request { len: usize, close: bool },
    /// The start of a request: read more.
    Partial,
    /// Unanswerable: send this response and close.
    Reject(&'static [u8]),
}

fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn find_crlf_crlf(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n")
}

/// A lone `\n` (not after `\r`) or a NUL: requests must use CRLF.
fn has_bad_line_ending(buf: &[u8]) -> bool {
    buf.iter()
        .enumerate()
        .any(|(i, &b)| b == 0 || (b == b'\n' && (i == 0 || buf[i - 1] != b'\r')))
}

/// Frames the request at the start of `buf`.
pub fn parse(buf: &[u8]) -> Parse {
    let Some(head_end) = find_crlf_crlf(buf) else {
        if has_bad_line_ending(buf) || first_line_is_bad(buf) {
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
    if has_bad_line_ending(head) {
        return Parse::Reject(BAD_REQUEST);
    }
    let mut lines = head
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let Some(http11) = lines.next().and_then(request_line) else {
        return Parse::Reject(BAD_REQUEST);
    };
    let mut close = !http11;
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
            if contains_token(value, b"close") {
                close = true;
            } else if contains_token(value, b"keep-alive") {
                close = false;
            }
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
    Parse::Request { len, close }
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
                Parse::Request { len, close } => {
                    start += len;
                    if close {
                        out.extend_from_slice(HELLO_CLOSE);
                        break Flow::Close;
                    }
                    out.extend_from_slice(HELLO);
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
    /// How long an idle keep-alive connection is kept.
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

/// Serves one connection until the client closes, a timeout passes, or a
/// request is rejected.
pub async fn serve<S>(mut stream: S, limits: Limits) -> io::Result<()>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut session = Session::new();
    let mut out = Vec::with_capacity(1024);
    let mut request_deadline = None;
    loop {
        let deadline = match request_deadline {
            Some(d) => d,
            None => Instant::now() + limits.idle,
        };
        let n = match timeout_at(deadline, stream.read(session.read_buf())).await {
            Ok(res) => res?,
            Err(_elapsed) => return Ok(()),
        };
        if n == 0 {
            return Ok(());
        }
        let flow = session.process(n, &mut out);
        if !out.is_empty() {
            let write_deadline = Instant::now() + limits.idle;
            match timeout_at(write_deadline, stream.write_all(&out)).await {
                Ok(res) => res?,
                Err(_elapsed) => return Ok(()),
            }
            out.clear();
        }
        match flow {
            Flow::Continue => {}
            Flow::Close => return stream.close().await,
            Flow::Reject => return linger(stream, limits.linger).await,
        }
        request_deadline = match (session.has_partial(), request_deadline) {
            (false, _) => None,
            (true, Some(d)) => Some(d),
            (true, None) => Some(Instant::now() + limits.request),
        };
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
