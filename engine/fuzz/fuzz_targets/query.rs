//! Request targets and query strings: the lenient request-line pass (`api::request_line`) over
//! the input split into reads at fuzzer-chosen points, then the query parser (`api::query`) with
//! docker's booleans, integers and JSON `filters`.
#![no_main]

use std::collections::HashMap;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use berth_engine::api::query::{Filters, Query};
use berth_engine::api::request_line::LenientRequestLine;
use libfuzzer_sys::fuzz_target;
use tokio::io::{AsyncRead, AsyncReadExt, ReadBuf};

/// Hands out the input in reads of the given sizes, as a socket would.
struct Pieces<'a> {
    data: &'a [u8],
    sizes: std::iter::Cycle<std::vec::IntoIter<usize>>,
}

impl AsyncRead for Pieces<'_> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let want = self.sizes.next().unwrap_or(1).max(1);
        let n = want.min(self.data.len()).min(buf.remaining());
        buf.put_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Poll::Ready(Ok(()))
    }
}

fuzz_target!(|data: &[u8]| {
    // First byte: read sizes; the rest is the byte stream.
    let Some((&split, stream)) = data.split_first() else {
        return;
    };
    let sizes = vec![usize::from(split % 17) + 1, usize::from(split) * 4 + 1];
    let reader = Pieces {
        data: stream,
        sizes: sizes.into_iter().cycle(),
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let out = rt.block_on(async {
        let mut lenient = LenientRequestLine::new(reader);
        let mut out = Vec::new();
        lenient.read_to_end(&mut out).await.map(|_| out)
    });
    // The pass only ever adds percent-encoding: nothing is lost.
    let out = out.expect("reading from memory cannot fail");
    assert!(out.len() >= stream.len());

    let Ok(text) = std::str::from_utf8(stream) else {
        return;
    };
    let raw = text.split_once('?').map_or(text, |(_, q)| q);
    let q = Query::parse(Some(raw));
    let _ = q.bool("all");
    let _ = q.bool_or("stream", true);
    let _ = q.int("limit");
    let _ = q.get_all("t");
    if let Ok(f) = q.filters() {
        let _ = f.only(&["label", "name"]);
        let labels = HashMap::from([("a".to_string(), "b".to_string())]);
        let _ = f.labels_match(&labels);
    }
    let _ = Filters::parse(Some(text));
});
