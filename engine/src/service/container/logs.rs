//! Reading container logs from the shim's json-file logs: filtering by stream and time, tail,
//! timestamps, and follow (across rotations) until the container stops. Rotated files may be
//! gzipped (`compress=true`, `local`'s default): `path.N.gz`.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufRead, BufReader, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use serde::Deserialize;
use tokio::sync::mpsc;

use crate::model::stream::{encode, StreamKind};
use crate::service::container::Container;

#[derive(Debug, Clone, Default)]
pub struct LogOptions {
    pub stdout: bool,
    pub stderr: bool,
    /// Unix seconds (fractional); entries strictly before are skipped.
    pub since: Option<f64>,
    /// Unix seconds; entries after are skipped.
    pub until: Option<f64>,
    pub timestamps: bool,
    pub tail: Option<usize>,
    pub follow: bool,
    pub tty: bool,
}

#[derive(Deserialize)]
struct Entry {
    log: String,
    stream: String,
    time: String,
}

/// Files of one log, oldest first: path.(n-1) … path.1, path; each rotated one plain or, once
/// compressed, `.gz` (a file being compressed still has its plain name: that one is read).
fn log_files(path: &Path) -> Vec<PathBuf> {
    let mut rotated = Vec::new();
    for i in 1.. {
        let plain = PathBuf::from(format!("{}.{i}", path.display()));
        let gz = PathBuf::from(format!("{}.{i}.gz", path.display()));
        if plain.exists() {
            rotated.push(plain);
        } else if gz.exists() {
            rotated.push(gz);
        } else {
            break;
        }
    }
    rotated.reverse();
    rotated.push(path.to_owned());
    rotated
}

/// Every line of a rotated (complete) file, gunzipped when it is a `.gz`.
fn read_rotated(path: &Path) -> Vec<String> {
    let Ok(file) = File::open(path) else {
        return Vec::new();
    };
    let reader: Box<dyn BufRead> = if path.extension().is_some_and(|e| e == "gz") {
        Box::new(BufReader::new(flate2::read::GzDecoder::new(file)))
    } else {
        Box::new(BufReader::new(file))
    };
    reader
        .lines()
        .map_while(|l| l.ok())
        .map(|l| l + "\n")
        .collect()
}

fn entry_time(e: &Entry) -> Option<f64> {
    chrono::DateTime::parse_from_rfc3339(&e.time)
        .ok()
        .map(|t| t.timestamp() as f64 + f64::from(t.timestamp_subsec_nanos()) / 1e9)
}

/// Turn one json line into an output chunk, or None when filtered out.
fn render(line: &str, o: &LogOptions) -> Option<Bytes> {
    let e: Entry = serde_json::from_str(line).ok()?;
    let kind = match e.stream.as_str() {
        "stdout" if o.stdout => StreamKind::Stdout,
        "stderr" if o.stderr => StreamKind::Stderr,
        _ => return None,
    };
    if o.since.is_some() || o.until.is_some() {
        let t = entry_time(&e)?;
        if o.since.is_some_and(|s| t < s) || o.until.is_some_and(|u| t > u) {
            return None;
        }
    }
    let payload = if o.timestamps {
        format!("{} {}", e.time, e.log)
    } else {
        e.log
    };
    Some(encode(kind, payload.as_bytes(), o.tty))
}

/// Read whole lines from `reader` starting at its position; returns the lines and leaves a
/// trailing partial line unread (the shim may be mid-write).
fn read_lines(reader: &mut BufReader<File>) -> Vec<String> {
    let mut out = Vec::new();
    loop {
        let mut buf = String::new();
        let pos = reader.stream_position().unwrap_or(0);
        match reader.read_line(&mut buf) {
            Ok(0) => break,
            Ok(_) if buf.ends_with('\n') => out.push(buf),
            Ok(_) => {
                let _ = reader.seek(SeekFrom::Start(pos));
                break;
            }
            Err(_) => break,
        }
    }
    out
}

/// Stream a container's logs. The receiver ends when everything asked for has been sent.
pub fn stream(container: Arc<Container>, path: PathBuf, opts: LogOptions) -> mpsc::Receiver<Bytes> {
    let (tx, rx) = mpsc::channel(64);
    tokio::spawn(async move {
        let mut output = container.subscribe_output();
        let life = container.subscribe_life();
        let o = opts.clone();
        let p = path.clone();
        // Initial read (and tail) on a blocking thread: logs can be tens of MiB.
        let initial = tokio::task::spawn_blocking(move || {
            let files = log_files(&p);
            let mut lines: VecDeque<String> = VecDeque::new();
            let mut current: Option<BufReader<File>> = None;
            let mut keep = |batch: Vec<String>| {
                for line in batch {
                    lines.push_back(line);
                    if let Some(n) = o.tail {
                        while lines.len() > n {
                            lines.pop_front();
                        }
                    }
                }
            };
            let (current_file, rotated) = files.split_last().expect("the current file");
            for f in rotated {
                keep(read_rotated(f));
            }
            if let Ok(file) = File::open(current_file) {
                let mut reader = BufReader::new(file);
                keep(read_lines(&mut reader));
                current = Some(reader);
            }
            let chunks: Vec<Bytes> = lines.iter().filter_map(|l| render(l, &o)).collect();
            (chunks, current)
        })
        .await;
        let Ok((chunks, mut current)) = initial else {
            return;
        };
        for chunk in chunks {
            if tx.send(chunk).await.is_err() {
                return;
            }
        }
        if !opts.follow {
            return;
        }
        loop {
            let running = life.borrow().running;
            // Drain what is there now (blocking reads of an append-only file are short).
            let mut sent_any = false;
            if let Some(reader) = current.as_mut() {
                for line in read_lines(reader) {
                    sent_any = true;
                    if let Some(chunk) = render(&line, &opts) {
                        if tx.send(chunk).await.is_err() {
                            return;
                        }
                    }
                }
                // Rotated? The path now names a new file: continue there from its start.
                let rotated = match (reader.get_ref().metadata(), std::fs::metadata(&path)) {
                    (Ok(open), Ok(now)) => open.ino() != now.ino(),
                    _ => false,
                };
                if rotated {
                    // What was written to the old file between the drain above and the
                    // rotation is still there (the open file moved, it was not lost).
                    for line in read_lines(reader) {
                        if let Some(chunk) = render(&line, &opts) {
                            if tx.send(chunk).await.is_err() {
                                return;
                            }
                        }
                    }
                    current = File::open(&path).ok().map(BufReader::new);
                    continue;
                }
            } else {
                current = File::open(&path).ok().map(BufReader::new);
            }
            if opts
                .until
                .is_some_and(|u| chrono::Utc::now().timestamp() as f64 > u)
            {
                return;
            }
            if !running && !sent_any {
                return;
            }
            if tx.is_closed() {
                return;
            }
            // Wake on new output (or the exit) or after a short poll interval.
            let _ = tokio::time::timeout(Duration::from_millis(200), output.recv()).await;
        }
    });
    rx
}
