//! A lenient pre-pass over each request line, so request targets parse as leniently as Go's
//! net/url does for dockerd.
//!
//! hyper hands the request target to the `http` crate's `Uri`, which refuses bytes RFC 3986 says
//! must be percent-encoded (a raw `"`, `<`, `>` in the query; a backtick in the path) and hyper
//! answers such a request with a bare 400 before any handler runs. Go's `url.ParseRequestURI`
//! keeps the raw query as it came, so `curl --globoff '...?filters={"label":["x"]}'` works
//! against dockerd; podman's API tests send exactly that. httparse itself accepts those bytes,
//! so this wrapper sits between the socket and hyper and percent-encodes them in each request
//! target; the handlers percent-decode paths and queries anyway, so they see what Go would.
//!
//! Only request heads are rewritten: the wrapper follows HTTP/1.1 framing (Content-Length,
//! chunked) to know where the next head starts, and stops looking once a request upgrades the
//! connection (attach, exec) or anything it cannot follow comes along (then hyper sees the bytes
//! unchanged and answers as it always did).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A head larger than this is left to hyper (whose own limit is smaller).
const MAX_HEAD: usize = 16 << 20;
const MAX_HEADERS: usize = 256;

pub struct LenientRequestLine<S> {
    inner: S,
    state: State,
    /// Bytes ready for hyper, from `pending_pos`.
    pending: Vec<u8>,
    pending_pos: usize,
}

enum State {
    /// Accumulating a request head.
    Head(Vec<u8>),
    /// So many body bytes before the next head.
    Body(u64),
    Chunked(Chunk),
    /// Upgraded, or not understood: everything passes unchanged.
    Passthrough,
}

enum Chunk {
    /// The chunk-size line so far.
    Size(Vec<u8>),
    Data(u64),
    /// The CRLF after a chunk's data.
    DataEnd(u64),
    /// A trailer line so far; the empty one ends the body.
    Trailer(Vec<u8>),
}

impl<S> LenientRequestLine<S> {
    pub fn new(inner: S) -> Self {
        LenientRequestLine {
            inner,
            state: State::Head(Vec::new()),
            pending: Vec::new(),
            pending_pos: 0,
        }
    }

    /// Run bytes read from the socket through the framing state machine into `pending`. A loop,
    /// not recursion per head: one read may hold a thousand pipelined heads.
    fn feed(&mut self, input: &[u8]) {
        let mut carried: Vec<u8>;
        let mut input = input;
        while !input.is_empty() {
            match &mut self.state {
                State::Passthrough => {
                    self.pending.extend_from_slice(input);
                    return;
                }
                State::Body(n) => {
                    let take = (*n).min(input.len() as u64) as usize;
                    self.pending.extend_from_slice(&input[..take]);
                    *n -= take as u64;
                    if *n == 0 {
                        self.state = State::Head(Vec::new());
                    }
                    input = &input[take..];
                }
                State::Chunked(chunk) => {
                    let (used, next) = chunk.feed(input);
                    self.pending.extend_from_slice(&input[..used]);
                    input = &input[used..];
                    if let Some(next) = next {
                        self.state = next;
                    }
                }
                State::Head(head) => {
                    // Empty lines before a request line (httparse skips them) go on at once:
                    // kept in the head, every read would rescan them all.
                    if head.is_empty() {
                        let blank = input
                            .iter()
                            .take_while(|b| matches!(b, b'\r' | b'\n'))
                            .count();
                        self.pending.extend_from_slice(&input[..blank]);
                        input = &input[blank..];
                        if input.is_empty() {
                            return;
                        }
                    }
                    let start = head.len().saturating_sub(3);
                    head.extend_from_slice(input);
                    let Some(end) = head_end(head, start) else {
                        if head.len() > MAX_HEAD {
                            let head = std::mem::take(head);
                            self.pending.extend_from_slice(&head);
                            self.state = State::Passthrough;
                        }
                        return;
                    };
                    let mut head = std::mem::take(head);
                    carried = head.split_off(end);
                    let (rewritten, next) = rewrite_head(&head);
                    self.pending.extend_from_slice(&rewritten);
                    self.state = next;
                    // The bytes after the head go through the new state.
                    input = &carried;
                }
            }
        }
    }

    /// At end of stream a partial head goes to hyper as it is (it reports it).
    fn flush_partial(&mut self) {
        if let State::Head(head) = &mut self.state {
            let head = std::mem::take(head);
            self.pending.extend_from_slice(&head);
        }
    }
}

/// The end (exclusive) of a head ending in an empty line, searching from `from`. The head starts
/// with its request line (`feed` forwards the empty lines before it).
fn head_end(buf: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while i < buf.len() {
        if buf[i] == b'\n' {
            if buf[i + 1..].starts_with(b"\n") {
                return Some(i + 2);
            }
            if buf[i + 1..].starts_with(b"\r\n") {
                return Some(i + 3);
            }
        }
        i += 1;
    }
    None
}

/// Percent-encode the request target's bytes the `http` crate refuses, and decide how the body
/// that follows is framed.
fn rewrite_head(head: &[u8]) -> (Vec<u8>, State) {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    let Ok(httparse::Status::Complete(_)) = req.parse(head) else {
        return (head.to_vec(), State::Passthrough);
    };
    let Some(target) = req.path else {
        return (head.to_vec(), State::Passthrough);
    };
    let at = target.as_ptr() as usize - head.as_ptr() as usize;
    let mut out = Vec::with_capacity(head.len() + 16);
    out.extend_from_slice(&head[..at]);
    out.extend_from_slice(&encode_target(target.as_bytes()));
    out.extend_from_slice(&head[at + target.len()..]);

    let mut next = State::Head(Vec::new());
    for h in req.headers.iter() {
        let value = String::from_utf8_lossy(h.value).to_ascii_lowercase();
        if h.name.eq_ignore_ascii_case("upgrade")
            || (h.name.eq_ignore_ascii_case("connection") && value.contains("upgrade"))
        {
            return (out, State::Passthrough);
        }
        if h.name.eq_ignore_ascii_case("transfer-encoding") {
            next = if value.trim().ends_with("chunked") {
                State::Chunked(Chunk::Size(Vec::new()))
            } else {
                State::Passthrough
            };
        } else if h.name.eq_ignore_ascii_case("content-length") && matches!(next, State::Head(_)) {
            next = match value.trim().parse::<u64>() {
                Ok(0) => State::Head(Vec::new()),
                Ok(n) => State::Body(n),
                Err(_) => State::Passthrough,
            };
        }
    }
    if req.method == Some("CONNECT") {
        next = State::Passthrough;
    }
    (out, next)
}

/// The target with `"`, `#`, `<`, `>`, backtick and non-ASCII bytes as `%XX`. Go keeps all of
/// them (a request URI has no fragment, so `#` is data too); the handlers decode `%XX` back.
fn encode_target(target: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(target.len());
    for &b in target {
        if matches!(b, b'"' | b'#' | b'<' | b'>' | b'`') || b >= 0x80 {
            out.extend_from_slice(format!("%{b:02X}").as_bytes());
        } else {
            out.push(b);
        }
    }
    out
}

impl Chunk {
    /// Consume a prefix of `input`; return how much, and the state after the body if it ended.
    fn feed(&mut self, input: &[u8]) -> (usize, Option<State>) {
        match self {
            Chunk::Size(line) | Chunk::Trailer(line) => {
                let Some(nl) = input.iter().position(|&b| b == b'\n') else {
                    line.extend_from_slice(input);
                    return (input.len(), None);
                };
                line.extend_from_slice(&input[..=nl]);
                let text = String::from_utf8_lossy(line).into_owned();
                let text = text.trim_end_matches(['\r', '\n']);
                let next = match self {
                    Chunk::Size(_) => {
                        let digits = text.split([';', ' ', '\t']).next().unwrap_or("");
                        match u64::from_str_radix(digits, 16) {
                            Ok(0) => Chunk::Trailer(Vec::new()),
                            Ok(n) => Chunk::Data(n),
                            Err(_) => return (nl + 1, Some(State::Passthrough)),
                        }
                    }
                    _ if text.is_empty() => return (nl + 1, Some(State::Head(Vec::new()))),
                    _ => Chunk::Trailer(Vec::new()),
                };
                *self = next;
                (nl + 1, None)
            }
            Chunk::Data(n) | Chunk::DataEnd(n) => {
                let take = (*n).min(input.len() as u64);
                *n -= take;
                if *n == 0 {
                    *self = match self {
                        Chunk::Data(_) => Chunk::DataEnd(2),
                        _ => Chunk::Size(Vec::new()),
                    };
                }
                (take as usize, None)
            }
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for LenientRequestLine<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            if this.pending_pos < this.pending.len() {
                let ready = &this.pending[this.pending_pos..];
                let n = ready.len().min(buf.remaining());
                buf.put_slice(&ready[..n]);
                this.pending_pos += n;
                if this.pending_pos == this.pending.len() {
                    this.pending.clear();
                    this.pending_pos = 0;
                }
                return Poll::Ready(Ok(()));
            }
            // Upgraded streams (attach stdin) go straight through.
            if matches!(this.state, State::Passthrough) {
                return Pin::new(&mut this.inner).poll_read(cx, buf);
            }
            let mut chunk = [0u8; 16 * 1024];
            let mut read = ReadBuf::new(&mut chunk);
            std::task::ready!(Pin::new(&mut this.inner).poll_read(cx, &mut read))?;
            if read.filled().is_empty() {
                this.flush_partial();
                if this.pending.is_empty() {
                    return Poll::Ready(Ok(()));
                }
                continue;
            }
            let filled = read.filled().to_vec();
            this.feed(&filled);
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for LenientRequestLine<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    async fn through(input: &[u8]) -> Vec<u8> {
        let mut r = LenientRequestLine::new(input);
        let mut out = Vec::new();
        r.read_to_end(&mut out).await.unwrap();
        out
    }

    #[tokio::test]
    async fn encodes_quotes_in_the_target_only() {
        let out = through(
            b"GET /containers/json?filters={\"label\":[\"x\"]} HTTP/1.1\r\nX: \"y\"\r\n\r\n",
        )
        .await;
        assert_eq!(
            out,
            b"GET /containers/json?filters={%22label%22:[%22x%22]} HTTP/1.1\r\nX: \"y\"\r\n\r\n"
        );
    }

    #[tokio::test]
    async fn bodies_pass_unchanged_and_the_next_head_is_rewritten() {
        let input =
            b"POST /a HTTP/1.1\r\nContent-Length: 5\r\n\r\n\"<>\"\"GET /b?q=\"1\" HTTP/1.1\r\n\r\n";
        let out = through(input).await;
        assert_eq!(
            out,
            b"POST /a HTTP/1.1\r\nContent-Length: 5\r\n\r\n\"<>\"\"GET /b?q=%221%22 HTTP/1.1\r\n\r\n"
        );
    }

    #[tokio::test]
    async fn chunked_bodies_are_followed() {
        let input = b"POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n\"\"\"\r\n0\r\n\r\nGET /b?q=\" HTTP/1.1\r\n\r\n";
        let out = through(input).await;
        assert_eq!(
            out,
            b"POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n\"\"\"\r\n0\r\n\r\nGET /b?q=%22 HTTP/1.1\r\n\r\n"
        );
    }

    #[tokio::test]
    async fn upgraded_streams_pass_unchanged() {
        let input = b"POST /a/attach HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\nGET /\"x HTTP/1.1\r\n\r\n";
        assert_eq!(through(input).await, input);
    }

    #[test]
    fn thousands_of_pipelined_heads_in_one_read_need_no_deep_stack() {
        // A 16 KiB read of minimal heads is a thousand heads; feeding them recursed once per head.
        let input = b"GET /\"x HTTP/1.1\n\n".repeat(20_000);
        let expected = b"GET /%22x HTTP/1.1\n\n".repeat(20_000);
        let out = std::thread::Builder::new()
            .stack_size(128 << 10)
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .build()
                    .unwrap();
                rt.block_on(through(&input))
            })
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(out, expected);
    }

    #[test]
    fn empty_lines_before_a_request_line_are_not_kept_in_the_head() {
        // Kept, each read rescanned all of them: megabytes of CRLF cost quadratic time.
        let mut r = LenientRequestLine::new(&b""[..]);
        for _ in 0..1000 {
            r.feed(&b"\r\n".repeat(8 << 10));
            assert!(matches!(&r.state, State::Head(h) if h.is_empty()));
        }
        r.feed(b"\r\nGET /\"x HTTP/1.1\r\n\r\n");
        let tail = b"\r\nGET /%22x HTTP/1.1\r\n\r\n";
        assert!(r.pending.ends_with(tail));
        assert_eq!(r.pending.len(), 1000 * (16 << 10) + tail.len());
    }
}
