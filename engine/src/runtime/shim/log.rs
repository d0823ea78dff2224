//! Container output in docker's json-file format, with size-based rotation and, when asked
//! (`compress`), gzip of the rotated files (`path.1.gz`, … as docker names them).
//!
//! One JSON object per line: `{"log":"hi\n","stream":"stdout","time":"...Z"}`. Each read from the
//! container is split on newlines; a trailing partial line becomes its own entry (as docker does),
//! and no entry carries more than `MAX_ENTRY` bytes of output.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::runtime::spec::LogSpec;

/// Docker splits long lines into 16 KiB entries.
pub const MAX_ENTRY: usize = 16 * 1024;

#[derive(Serialize)]
struct Entry<'a> {
    log: &'a str,
    stream: &'a str,
    time: &'a str,
}

pub struct JsonLog {
    path: PathBuf,
    file: Option<File>,
    size: u64,
    /// 0 = never rotate.
    max_size: u64,
    max_files: u32,
    /// Gzip rotated files. Done in line: the shim has unshared its pid namespace for the
    /// container, so the kernel refuses it new threads (EINVAL), and a forked helper would land
    /// in the container's namespace. At gzip's fast level a 20 MB file takes ~0.1 s.
    compress: bool,
    /// `--log-driver none`: output goes to attached clients only.
    disabled: bool,
}

fn open_append(path: &Path) -> std::io::Result<File> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o640)
        .custom_flags(libc::O_CLOEXEC)
        .open(path)
}

fn rotated(path: &Path, n: u32) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(format!(".{n}"));
    PathBuf::from(s)
}

/// `path.N.gz`: a rotated file once compressed.
pub fn rotated_gz(path: &Path, n: u32) -> PathBuf {
    let mut s = rotated(path, n).into_os_string();
    s.push(".gz");
    PathBuf::from(s)
}

/// Gzip `from` into `to` (through a temporary name, so readers see all of it or none), then
/// remove `from`.
fn compress_file(from: &Path, to: &Path) -> std::io::Result<()> {
    let mut tmp = to.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let mut input = File::open(from)?;
    let out = OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .mode(0o640)
        .custom_flags(libc::O_CLOEXEC)
        .open(&tmp)?;
    let mut gz = flate2::write::GzEncoder::new(out, flate2::Compression::fast());
    std::io::copy(&mut input, &mut gz)?;
    gz.finish()?;
    std::fs::rename(&tmp, to)?;
    std::fs::remove_file(from)
}

/// Split one read into docker log entries: lines keep their '\n', the rest is its own entry,
/// and every entry is at most `MAX_ENTRY` bytes.
pub fn split_entries(data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        let line_end = rest
            .iter()
            .position(|&b| b == b'\n')
            .map(|i| i + 1)
            .unwrap_or(rest.len());
        let take = line_end.min(MAX_ENTRY);
        out.push(&rest[..take]);
        rest = &rest[take..];
    }
    out
}

impl JsonLog {
    pub fn open(spec: &LogSpec) -> std::io::Result<Self> {
        if spec.disabled {
            return Ok(JsonLog {
                path: spec.path.clone(),
                file: None,
                size: 0,
                max_size: 0,
                max_files: 1,
                compress: false,
                disabled: true,
            });
        }
        let file = open_append(&spec.path)?;
        let size = file.metadata()?.len();
        Ok(JsonLog {
            path: spec.path.clone(),
            file: Some(file),
            size,
            max_size: spec.max_size,
            max_files: spec.max_files.max(1),
            compress: spec.compress,
            disabled: false,
        })
    }

    /// Append one read's worth of output from `stream` ("stdout" or "stderr").
    pub fn write(&mut self, stream: &str, data: &[u8]) {
        if self.disabled {
            return;
        }
        let time = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
        let mut buf = Vec::with_capacity(data.len() + 128);
        for entry in split_entries(data) {
            let text = String::from_utf8_lossy(entry);
            let e = Entry {
                log: &text,
                stream,
                time: &time,
            };
            // Serializing strings into a Vec cannot fail.
            let _ = serde_json::to_writer(&mut buf, &e);
            buf.push(b'\n');
            // Rotation works per entry (as docker's), not per read: one read can hold many.
            if self.max_size > 0 && self.size + buf.len() as u64 >= self.max_size {
                self.append(&buf);
                buf.clear();
            }
        }
        if !buf.is_empty() {
            self.append(&buf);
        }
    }

    fn append(&mut self, buf: &[u8]) {
        if self.file.is_none() {
            // A previous rotation failed to reopen; try again so logging resumes.
            match open_append(&self.path) {
                Ok(f) => {
                    self.size = f.metadata().map(|m| m.len()).unwrap_or(0);
                    self.file = Some(f);
                }
                Err(e) => {
                    tracing::warn!("reopening {}: {e}", self.path.display());
                    return;
                }
            }
        }
        if let Some(f) = self.file.as_mut() {
            if let Err(e) = f.write_all(buf) {
                tracing::warn!("writing {}: {e}", self.path.display());
            }
        }
        self.size += buf.len() as u64;
        if self.max_size > 0 && self.size >= self.max_size {
            self.rotate();
        }
    }

    /// path → path.1 → ... → path.(max_files-1); the oldest is dropped. With max_files 1 the
    /// file is truncated instead (docker does the same). Compressed, the rotated files are
    /// path.1.gz …: path becomes path.1, then path.1.gz.
    fn rotate(&mut self) {
        self.file = None;
        if self.max_files <= 1 {
            if let Err(e) = File::create(&self.path) {
                tracing::warn!("truncating {}: {e}", self.path.display());
            }
        } else {
            let last = self.max_files - 1;
            let name = |n| {
                if self.compress {
                    rotated_gz(&self.path, n)
                } else {
                    rotated(&self.path, n)
                }
            };
            let _ = std::fs::remove_file(name(last));
            for n in (1..last).rev() {
                let from = name(n);
                if from.exists() {
                    let _ = std::fs::rename(&from, name(n + 1));
                }
            }
            if let Err(e) = std::fs::rename(&self.path, rotated(&self.path, 1)) {
                tracing::warn!("rotating {}: {e}", self.path.display());
            } else if self.compress {
                let (from, to) = (rotated(&self.path, 1), rotated_gz(&self.path, 1));
                if let Err(e) = compress_file(&from, &to) {
                    tracing::warn!("compressing {}: {e}", from.display());
                }
            }
        }
        match open_append(&self.path) {
            Ok(f) => {
                self.size = 0;
                self.file = Some(f);
            }
            Err(e) => tracing::warn!("reopening {}: {e}", self.path.display()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(path: &Path, max_size: u64, max_files: u32, compress: bool) -> JsonLog {
        JsonLog::open(&LogSpec {
            path: path.to_owned(),
            max_size,
            max_files,
            disabled: false,
            compress,
        })
        .unwrap()
    }

    fn lines(path: &Path) -> Vec<serde_json::Value> {
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    #[test]
    fn splits_lines_partials_and_long_runs() {
        assert_eq!(split_entries(b"a\nb\nc"), vec![&b"a\n"[..], b"b\n", b"c"]);
        assert_eq!(split_entries(b"\n\n"), vec![&b"\n"[..], b"\n"]);
        assert!(split_entries(b"").is_empty());
        let long = vec![b'x'; MAX_ENTRY * 2 + 5];
        let parts = split_entries(&long);
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            vec![MAX_ENTRY, MAX_ENTRY, 5]
        );
    }

    #[test]
    fn writes_docker_json_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.log");
        let mut log = open(&path, 0, 1, false);
        log.write("stdout", b"hi\nthere");
        log.write("stderr", b"\"quoted\" \xff\n");
        let l = lines(&path);
        assert_eq!(l.len(), 3);
        assert_eq!(l[0]["log"], "hi\n");
        assert_eq!(l[0]["stream"], "stdout");
        assert_eq!(l[1]["log"], "there");
        assert_eq!(l[2]["log"], "\"quoted\" \u{fffd}\n");
        assert_eq!(l[2]["stream"], "stderr");
        let t = l[0]["time"].as_str().unwrap();
        assert!(t.ends_with('Z') && t.len() == "2026-11-23T10:00:00.123456789Z".len());
        // Field order matches docker's.
        let raw = std::fs::read_to_string(&path).unwrap();
        assert!(raw.starts_with("{\"log\":\"hi\\n\",\"stream\":\"stdout\",\"time\":\""));
    }

    #[test]
    fn rotates_and_drops_the_oldest() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.log");
        let mut log = open(&path, 200, 3, false);
        for i in 0..20 {
            log.write("stdout", format!("line {i:02}\n").as_bytes());
        }
        assert!(path.exists());
        assert!(rotated(&path, 1).exists());
        assert!(rotated(&path, 2).exists());
        assert!(!rotated(&path, 3).exists());
        for p in [rotated(&path, 1), rotated(&path, 2)] {
            let size = std::fs::metadata(&p).unwrap().len();
            assert!((200..300).contains(&size), "{size}");
        }
        // Newest entries are in the current file, the older ones in .1 and .2, in order.
        let all: Vec<String> = [rotated(&path, 2), rotated(&path, 1), path.clone()]
            .iter()
            .flat_map(|p| lines(p))
            .map(|v| v["log"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(all.last().unwrap(), "line 19\n");
        let nums: Vec<u32> = all.iter().map(|s| s[5..7].parse().unwrap()).collect();
        assert!(nums.windows(2).all(|w| w[1] == w[0] + 1));
        assert!(nums[0] > 0, "oldest entries were dropped");
    }

    #[test]
    fn compressed_rotation_keeps_gzipped_files_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.log");
        let mut log = open(&path, 200, 3, true);
        for i in 0..20 {
            log.write("stdout", format!("line {i:02}\n").as_bytes());
        }
        let gunzip = |p: &Path| {
            let mut s = String::new();
            std::io::Read::read_to_string(
                &mut flate2::read::GzDecoder::new(File::open(p).unwrap()),
                &mut s,
            )
            .unwrap();
            s
        };
        assert!(!rotated(&path, 1).exists() && !rotated(&path, 2).exists());
        assert!(!rotated_gz(&path, 3).exists());
        let text = gunzip(&rotated_gz(&path, 2)) + &gunzip(&rotated_gz(&path, 1));
        let text = text + &std::fs::read_to_string(&path).unwrap();
        let nums: Vec<u32> = text
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .map(|v| v["log"].as_str().unwrap()[5..7].parse().unwrap())
            .collect();
        assert_eq!(*nums.last().unwrap(), 19);
        assert!(nums.windows(2).all(|w| w[1] == w[0] + 1), "{nums:?}");
        assert!(nums[0] > 0, "oldest entries were dropped");
    }

    #[test]
    fn one_read_with_many_lines_rotates_per_entry() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.log");
        let mut log = open(&path, 300, 2, false);
        let chunk: String = (0..50).map(|i| format!("line {i:02}\n")).collect();
        log.write("stdout", chunk.as_bytes());
        let cur = lines(&path);
        let old = lines(&rotated(&path, 1));
        assert!(!cur.is_empty() || !old.is_empty());
        assert!(std::fs::metadata(rotated(&path, 1)).unwrap().len() < 400);
        let last = if cur.is_empty() { &old } else { &cur };
        assert_eq!(last.last().unwrap()["log"], "line 49\n");
    }

    #[test]
    fn single_file_truncates() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.log");
        let mut log = open(&path, 100, 1, false);
        for _ in 0..10 {
            log.write("stdout", b"0123456789\n");
        }
        assert!(std::fs::metadata(&path).unwrap().len() < 200);
        assert!(!rotated(&path, 1).exists());
    }
}
