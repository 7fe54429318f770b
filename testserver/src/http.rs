//! A small HTTP/1.1 server side: request parsing (the head by `httparse`, the framing
//! rules here), response writing, keep-alive.
//!
//! It works over any `Read + Write` stream, so the same code serves plain TCP and rustls.
//! Nothing here panics on network input: a malformed request gets a 400 and the connection
//! closes; an I/O error just ends the connection.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// Longest request line or header line accepted.
const MAX_LINE: u64 = 16 * 1024;
/// Most header lines accepted in one request.
const MAX_HEADERS: usize = 200;
/// Largest request body accepted (either framing).
const MAX_BODY: u64 = 64 * 1024 * 1024;

/// A parsed request.
#[derive(Debug)]
pub struct Request {
    /// Method as sent (upper case by convention; not normalised).
    pub method: String,
    /// The request target as received: path plus `?query` (absolute-form is reduced to this).
    pub target: String,
    /// The raw path part of the target (still percent-encoded).
    pub path: String,
    /// The raw query string, without the `?` (empty when there is none).
    pub raw_query: String,
    /// Decoded query parameters, in order.
    pub query: Vec<(String, String)>,
    /// Headers in arrival order, names lower-cased, values trimmed.
    pub headers: Vec<(String, String)>,
    /// The body (de-chunked).
    pub body: Vec<u8>,
    /// Whether the connection may stay open after the answer.
    pub keep_alive: bool,
}

impl Request {
    /// The first header with this (lower-case) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first query parameter with this name.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The path split on `/` with each segment percent-decoded; the leading empty segment
    /// is dropped (`/api/v1` → `["api", "v1"]`).
    pub fn segments(&self) -> Vec<String> {
        // A trailing slash names the same resource, as on the API server (`/version/`).
        self.path
            .trim_end_matches('/')
            .split('/')
            .skip(1)
            .map(|s| percent_decode(s, false))
            .collect()
    }
}

/// A complete response with a `Content-Length` body.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub content_type: Option<&'static str>,
    /// Extra headers (not Content-Type / Content-Length / Connection).
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn new(status: u16, content_type: Option<&'static str>, body: Vec<u8>) -> Self {
        Response {
            status,
            content_type,
            headers: Vec::new(),
            body,
        }
    }

    /// A JSON response.
    pub fn json(status: u16, value: &serde_json::Value) -> Self {
        // Serialising a `Value` cannot fail.
        let body = serde_json::to_vec(value).unwrap_or_default();
        Response::new(status, Some("application/json"), body)
    }

    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
}

/// A response whose body is produced piece by piece with chunked transfer encoding
/// (watch streams, log follows). The body function writes chunks through the
/// [`ChunkedWriter`]; returning `Err` aborts the connection without the terminating chunk,
/// which is how a route simulates a stream cut mid-way.
pub struct Streaming {
    pub status: u16,
    pub content_type: &'static str,
    pub headers: Vec<(&'static str, String)>,
    pub body: StreamBody,
}

/// The body producer of a [`Streaming`] response.
pub type StreamBody = Box<dyn FnOnce(&mut ChunkedWriter<'_>) -> io::Result<()> + Send>;

/// What a route answers.
pub enum Reply {
    /// A normal response.
    Full(Response),
    /// A response serialised once at start-up: the bytes for a kept-alive connection and the
    /// bytes for a closing one (the latter carries `Connection: close`).
    Preencoded {
        keep_alive: &'static [u8],
        close: &'static [u8],
    },
    /// A chunked, streamed response.
    Stream(Streaming),
    /// Close the connection at once without sending a single byte.
    Drop,
    /// Write whatever bytes the function writes — status line and headers included — and
    /// close the connection: for servers that break HTTP (a head trickled byte by byte, an
    /// endless header line). The function gets the connection and its socket (see
    /// [`ChunkedWriter::peer_gone`]); it should stop when a write fails.
    Raw(RawBody),
    /// Take the connection over both ways (a WebSocket upgrade): the function writes the
    /// answer head itself and owns the connection until it returns; then it closes.
    Upgrade(UpgradeBody),
}

/// A connection readable and writable, for [`Reply::Upgrade`].
pub trait Duplex: Read + Write {}
impl<T: Read + Write> Duplex for T {}

/// The handler of a [`Reply::Upgrade`] answer: the connection (its read side buffered) and its
/// socket, to set read timeouts on.
pub type UpgradeBody =
    Box<dyn FnOnce(&mut dyn Duplex, Option<&TcpStream>) -> io::Result<()> + Send>;

/// A buffered connection as one `Read + Write` stream (bytes already buffered are read first).
struct Both<'a, S>(&'a mut BufReader<S>);

impl<S: Read> Read for Both<'_, S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

impl<S: Write> Write for Both<'_, S> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.get_mut().write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.get_mut().flush()
    }
}

/// The producer of a [`Reply::Raw`] answer.
pub type RawBody = Box<dyn FnOnce(&mut dyn Write, Option<&TcpStream>) -> io::Result<()> + Send>;

impl From<Response> for Reply {
    fn from(r: Response) -> Self {
        Reply::Full(r)
    }
}

/// Writes chunks of a streamed body. [`send`](Self::send) writes one chunk and flushes it
/// so the client sees it at once; [`queue`](Self::queue) plus [`flush`](Self::flush) let a
/// producer with several pieces ready (a burst of watch events) send them in one write.
pub struct ChunkedWriter<'a> {
    out: &'a mut dyn Write,
    buf: Vec<u8>,
    /// The connection's socket (a clone), to notice a client that went away while the
    /// producer has nothing to write. `None` when unknown.
    peer: Option<&'a TcpStream>,
}

impl ChunkedWriter<'_> {
    /// Send one chunk (an empty `data` is skipped: it would end the body), together with
    /// anything queued before it.
    pub fn send(&mut self, data: &[u8]) -> io::Result<()> {
        self.queue(data);
        self.flush()
    }

    /// Add one chunk to the pending output without writing it yet (empty data is skipped).
    pub fn queue(&mut self, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        // Writing into a Vec cannot fail.
        let _ = write!(self.buf, "{:x}\r\n", data.len());
        self.buf.extend_from_slice(data);
        self.buf.extend_from_slice(b"\r\n");
    }

    /// How many bytes are queued.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }

    /// Write and flush everything queued.
    pub fn flush(&mut self) -> io::Result<()> {
        if !self.buf.is_empty() {
            let result = self.out.write_all(&self.buf);
            self.buf.clear();
            result?;
        }
        self.out.flush()
    }

    /// Has the client closed its side of the connection? Waits up to `wait` for that to
    /// happen (zero: just look). Unread request bytes do not count as closing. Always false
    /// when the socket is unknown or on systems without `POLLRDHUP`.
    pub fn peer_gone(&self, wait: Duration) -> bool {
        match self.peer {
            Some(sock) => peer_closed(sock, wait),
            None => {
                std::thread::sleep(wait);
                false
            }
        }
    }
}

/// See [`ChunkedWriter::peer_gone`]. `poll` with `POLLRDHUP` reports the peer's FIN even when
/// unread bytes (a pipelined request, a TLS close_notify) sit in front of it, which a plain
/// `peek` could not tell apart.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn peer_closed(sock: &TcpStream, wait: Duration) -> bool {
    use std::os::fd::AsRawFd;
    let mut pfd = libc::pollfd {
        fd: sock.as_raw_fd(),
        events: libc::POLLRDHUP,
        revents: 0,
    };
    let ms = libc::c_int::try_from(wait.as_millis()).unwrap_or(libc::c_int::MAX);
    // SAFETY: `pfd` is one valid pollfd that outlives the call, and the fd belongs to `sock`,
    // which is borrowed (so open) for the whole call.
    let n = unsafe { libc::poll(&mut pfd, 1, ms) };
    n > 0 && pfd.revents & (libc::POLLRDHUP | libc::POLLHUP | libc::POLLERR | libc::POLLNVAL) != 0
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn peer_closed(_sock: &TcpStream, wait: Duration) -> bool {
    std::thread::sleep(wait);
    false
}

/// The reason phrase for a status code.
pub fn reason_phrase(code: u16) -> &'static str {
    match code {
        100 => "Continue",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        413 => "Content Too Large",
        415 => "Unsupported Media Type",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ => "Status",
    }
}

/// Statuses that never carry a body (RFC 9110 §6.4.1).
fn bodiless(status: u16) -> bool {
    status == 204 || status == 304 || (100..200).contains(&status)
}

/// Serialise a complete response into `out` (cleared first).
pub fn encode_response(out: &mut Vec<u8>, resp: &Response, close: bool, head_only: bool) {
    out.clear();
    // Writing into a Vec cannot fail.
    let _ = write!(
        out,
        "HTTP/1.1 {} {}\r\n",
        resp.status,
        reason_phrase(resp.status)
    );
    if !bodiless(resp.status) {
        if let Some(ct) = resp.content_type {
            let _ = write!(out, "Content-Type: {ct}\r\n");
        }
        let _ = write!(out, "Content-Length: {}\r\n", resp.body.len());
    }
    for (k, v) in &resp.headers {
        let _ = write!(out, "{k}: {v}\r\n");
    }
    if close {
        out.extend_from_slice(b"Connection: close\r\n");
    }
    out.extend_from_slice(b"\r\n");
    if !head_only && !bodiless(resp.status) {
        out.extend_from_slice(&resp.body);
    }
}

/// Encode a response once, for [`Reply::Preencoded`]. The bytes are leaked: they live as
/// long as the process anyway.
pub fn preencode(resp: &Response) -> (&'static [u8], &'static [u8]) {
    let mut keep = Vec::new();
    encode_response(&mut keep, resp, false, false);
    let mut close = Vec::new();
    encode_response(&mut close, resp, true, false);
    (keep.leak(), close.leak())
}

/// Why a request could not be read.
enum ReadError {
    /// The peer closed (or the stream failed) between requests: just end.
    Closed,
    /// The request is malformed: answer this status and message, then close.
    Bad(u16, &'static str),
}

impl From<io::Error> for ReadError {
    fn from(_: io::Error) -> Self {
        ReadError::Closed
    }
}

/// Serve requests on one connection until it closes. `handle` routes one request. `peer` is
/// the connection's socket (a clone), which lets streamed bodies notice a vanished client.
pub fn serve<S: Read + Write>(
    stream: S,
    peer: Option<TcpStream>,
    handle: &dyn Fn(&Request) -> Reply,
) {
    let mut conn = BufReader::with_capacity(16 * 1024, stream);
    let mut out = Vec::with_capacity(4096);
    loop {
        let req = match read_request(&mut conn) {
            Ok(r) => r,
            Err(ReadError::Closed) => return,
            Err(ReadError::Bad(status, msg)) => {
                let resp = crate::api::status_response(status, msg, None);
                encode_response(&mut out, &resp, true, false);
                let s = conn.get_mut();
                let _ = s.write_all(&out).and_then(|_| s.flush());
                return;
            }
        };
        let head_only = req.method == "HEAD";
        let close = !req.keep_alive;
        let written = match handle(&req) {
            Reply::Full(resp) => {
                encode_response(&mut out, &resp, close, head_only);
                write_flush(conn.get_mut(), &out)
            }
            Reply::Preencoded {
                keep_alive,
                close: closing,
            } => write_flush(conn.get_mut(), if close { closing } else { keep_alive }),
            Reply::Stream(s) => write_stream(conn.get_mut(), peer.as_ref(), &mut out, s, close),
            Reply::Drop => return,
            Reply::Upgrade(body) => {
                let mut both = Both(&mut conn);
                let _ = body(&mut both, peer.as_ref()).and_then(|()| both.flush());
                return;
            }
            Reply::Raw(body) => {
                let s = conn.get_mut();
                let _ = body(s, peer.as_ref()).and_then(|()| s.flush());
                return;
            }
        };
        if written.is_err() || close {
            return;
        }
    }
}

fn write_flush<W: Write>(w: &mut W, bytes: &[u8]) -> io::Result<()> {
    w.write_all(bytes)?;
    w.flush()
}

fn write_stream<W: Write>(
    w: &mut W,
    peer: Option<&TcpStream>,
    out: &mut Vec<u8>,
    s: Streaming,
    close: bool,
) -> io::Result<()> {
    out.clear();
    write!(
        out,
        "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nTransfer-Encoding: chunked\r\n",
        s.status,
        reason_phrase(s.status),
        s.content_type
    )?;
    for (k, v) in &s.headers {
        write!(out, "{k}: {v}\r\n")?;
    }
    if close {
        out.extend_from_slice(b"Connection: close\r\n");
    }
    out.extend_from_slice(b"\r\n");
    write_flush(w, out)?;
    let mut cw = ChunkedWriter {
        out: w,
        buf: Vec::new(),
        peer,
    };
    (s.body)(&mut cw)?;
    // Whatever the body queued but did not flush goes out before the terminating chunk.
    cw.flush()?;
    write_flush(w, b"0\r\n\r\n")
}

/// Read one line (including its `\n`) into `line`, at most [`MAX_LINE`] bytes. Returns the
/// number of bytes read (0 at end of stream).
fn read_line<R: BufRead>(r: &mut R, line: &mut Vec<u8>) -> Result<usize, ReadError> {
    line.clear();
    let n = r.by_ref().take(MAX_LINE + 1).read_until(b'\n', line)?;
    if n as u64 > MAX_LINE {
        return Err(ReadError::Bad(431, "request line or header line too long"));
    }
    if n > 0 && line.last() != Some(&b'\n') {
        // The stream ended in the middle of a line.
        return Err(ReadError::Closed);
    }
    // Strip the line ending (CRLF, or a bare LF, which RFC 9112 lets servers accept).
    line.pop();
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    Ok(n)
}

/// Read the request head (the request line and the header lines, through the blank line)
/// as raw bytes into `head`, for `httparse`. Empty lines before the request line are skipped
/// (a few), as RFC 9112 §2.2 allows.
fn read_head<R: BufRead>(r: &mut R, head: &mut Vec<u8>) -> Result<(), ReadError> {
    head.clear();
    let mut blank = 0;
    loop {
        let start = head.len();
        let n = r.by_ref().take(MAX_LINE + 1).read_until(b'\n', head)?;
        if n == 0 || head.last() != Some(&b'\n') {
            // The stream ended between requests or in the middle of a line.
            return Err(ReadError::Closed);
        }
        if n as u64 > MAX_LINE {
            return Err(ReadError::Bad(431, "request line or header line too long"));
        }
        let line = &head[start..];
        if line == b"\n" || line == b"\r\n" {
            if start > 0 {
                return Ok(());
            }
            head.clear();
            blank += 1;
            if blank > 4 {
                return Err(ReadError::Bad(400, "malformed request line"));
            }
        }
    }
}

fn read_request<S: Read + Write>(conn: &mut BufReader<S>) -> Result<Request, ReadError> {
    let mut head = Vec::with_capacity(1024);
    read_head(conn, &mut head)?;
    let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Request::new(&mut slots);
    match parsed.parse(&head) {
        Ok(httparse::Status::Complete(_)) => {}
        // `read_head` stops at the blank line, so a partial head is a broken one.
        Ok(httparse::Status::Partial) => return Err(ReadError::Bad(400, "malformed request")),
        Err(httparse::Error::TooManyHeaders) => {
            return Err(ReadError::Bad(431, "too many header lines"));
        }
        Err(httparse::Error::Version) => {
            return Err(ReadError::Bad(505, "unsupported HTTP version"));
        }
        Err(httparse::Error::HeaderName | httparse::Error::HeaderValue) => {
            return Err(ReadError::Bad(400, "malformed header"));
        }
        Err(_) => return Err(ReadError::Bad(400, "malformed request line")),
    }
    let (Some(method), Some(target), Some(version)) = (parsed.method, parsed.path, parsed.version)
    else {
        return Err(ReadError::Bad(400, "malformed request line"));
    };
    // httparse takes any token as a method; the API server's methods are all letters.
    if !method.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(ReadError::Bad(400, "malformed request method"));
    }
    let http11 = version == 1;
    let method = method.to_owned();
    let target = origin_form(target)
        .ok_or(ReadError::Bad(400, "malformed request target"))?
        .to_owned();

    let mut headers: Vec<(String, String)> = Vec::with_capacity(parsed.headers.len());
    for h in parsed.headers.iter() {
        let value =
            std::str::from_utf8(h.value).map_err(|_| ReadError::Bad(400, "malformed header"))?;
        headers.push((h.name.to_ascii_lowercase(), value.trim().to_owned()));
    }
    let mut line = Vec::with_capacity(256);

    let find = |n: &str| {
        headers
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.as_str())
    };
    let has_token = |n: &str, tok: &str| {
        headers
            .iter()
            .filter(|(k, _)| k == n)
            .flat_map(|(_, v)| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(tok))
    };
    let keep_alive = if http11 {
        !has_token("connection", "close")
    } else {
        has_token("connection", "keep-alive") && !has_token("connection", "close")
    };

    let chunked = match find("transfer-encoding") {
        None => false,
        Some(te) if te.eq_ignore_ascii_case("chunked") => true,
        Some(_) => return Err(ReadError::Bad(501, "unsupported transfer-encoding")),
    };
    let lengths: Vec<&str> = headers
        .iter()
        .filter(|(k, _)| k == "content-length")
        .map(|(_, v)| v.as_str())
        .collect();
    let content_length = match lengths.as_slice() {
        [] => None,
        [first, rest @ ..] => {
            // A request with both framings, or with conflicting lengths, is a smuggling
            // attempt in real life; reject it.
            if chunked || rest.iter().any(|l| l != first) {
                return Err(ReadError::Bad(400, "conflicting message framing"));
            }
            if first.is_empty() || !first.bytes().all(|b| b.is_ascii_digit()) {
                return Err(ReadError::Bad(400, "malformed content-length"));
            }
            let n: u64 = first
                .parse()
                .map_err(|_| ReadError::Bad(413, "request body too large"))?;
            Some(n)
        }
    };
    if content_length.is_some_and(|n| n > MAX_BODY) {
        return Err(ReadError::Bad(413, "request body too large"));
    }

    // curl sends `Expect: 100-continue` for larger bodies and would otherwise wait a second.
    if (chunked || content_length.is_some_and(|n| n > 0)) && has_token("expect", "100-continue") {
        let s = conn.get_mut();
        s.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
        s.flush()?;
    }

    let body = if chunked {
        read_chunked(conn, &mut line)?
    } else {
        let n = content_length.unwrap_or(0);
        let mut body = Vec::with_capacity(n.min(1 << 20) as usize);
        conn.by_ref().take(n).read_to_end(&mut body)?;
        if (body.len() as u64) < n {
            return Err(ReadError::Closed);
        }
        body
    };

    let (path, raw_query) = match target.split_once('?') {
        Some((p, q)) => (p.to_owned(), q.to_owned()),
        None => (target.clone(), String::new()),
    };
    let query = parse_query(&raw_query);
    Ok(Request {
        method,
        target,
        path,
        raw_query,
        query,
        headers,
        body,
        keep_alive,
    })
}

/// Reduce a request target to origin-form (`/path?query`). An absolute-form target (what a
/// client sends to a forward proxy) keeps only its path and query. Fragments are dropped.
fn origin_form(target: &str) -> Option<&str> {
    let target = target.split('#').next().unwrap_or(target);
    if target.starts_with('/') {
        return Some(target);
    }
    let rest = target
        .strip_prefix("http://")
        .or_else(|| target.strip_prefix("https://"))?;
    match rest.find(['/', '?']) {
        Some(i) if rest.as_bytes()[i] == b'/' => Some(&rest[i..]),
        _ => None,
    }
}

fn read_chunked<R: BufRead>(r: &mut R, line: &mut Vec<u8>) -> Result<Vec<u8>, ReadError> {
    let mut body = Vec::new();
    loop {
        if read_line(r, line)? == 0 {
            return Err(ReadError::Closed);
        }
        let text = std::str::from_utf8(line).map_err(|_| ReadError::Bad(400, "bad chunk"))?;
        // Chunk extensions (`;name=value`) are allowed and ignored.
        let size = text.split(';').next().unwrap_or("").trim();
        let size = u64::from_str_radix(size, 16).map_err(|_| ReadError::Bad(400, "bad chunk"))?;
        if size == 0 {
            // Trailer fields, up to the empty line, are read and ignored.
            for _ in 0..=MAX_HEADERS {
                if read_line(r, line)? == 0 {
                    return Err(ReadError::Closed);
                }
                if line.is_empty() {
                    return Ok(body);
                }
            }
            return Err(ReadError::Bad(431, "too many trailer lines"));
        }
        if body.len() as u64 + size > MAX_BODY {
            return Err(ReadError::Bad(413, "request body too large"));
        }
        let before = body.len();
        r.by_ref().take(size).read_to_end(&mut body)?;
        if ((body.len() - before) as u64) < size {
            return Err(ReadError::Closed);
        }
        if read_line(r, line)? == 0 {
            return Err(ReadError::Closed);
        }
        if !line.is_empty() {
            return Err(ReadError::Bad(400, "bad chunk"));
        }
    }
}

/// Percent-decode `s`; with `plus_as_space`, `+` means a space (form encoding, as Go's
/// `url.ParseQuery` does). Invalid escapes are kept as they are; invalid UTF-8 is replaced.
pub fn percent_decode(s: &str, plus_as_space: bool) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' if plus_as_space => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// Parse `a=1&b=x%20y` into decoded pairs. A key without `=` gets an empty value.
pub fn parse_query(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k, true), percent_decode(v, true))
        })
        .collect()
}
