//! Build records (`model::build::BuildRecord`): one JSON file per build under
//! `<data>/builder/records/`, written atomically when a build starts and when it ends, the
//! newest `KEEP` kept. A record left `running` by a killed engine is marked `cancelled` when the
//! engine opens the store again.

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{EngineError, IoContext, Result};
use crate::model::build::{BuildRecord, BuildStatus};
use crate::store::atomic::{write_json_atomic, write_json_replace};

/// How many builds the engine remembers.
const KEEP: usize = 100;

pub struct BuildRecords {
    dir: PathBuf,
}

impl BuildRecords {
    pub fn open(builder_root: &Path) -> Result<BuildRecords> {
        let dir = builder_root.join("records");
        crate::store::blobs::ensure_private_dir(&dir)?;
        let records = BuildRecords { dir };
        for mut r in records.load_all()? {
            if r.status == BuildStatus::Running {
                r.status = BuildStatus::Cancelled;
                r.error = Some("the engine stopped during the build".into());
                records.write(&r)?;
            }
        }
        Ok(records)
    }

    /// Save a record durably (a build's start and end).
    pub fn write(&self, r: &BuildRecord) -> Result<()> {
        write_json_atomic(&self.dir.join(format!("{}.json", r.id)), r)
    }

    /// Save a running build's progress: replaced atomically but not fsynced (after a crash the
    /// record is `cancelled` anyway, and the last durable version says how far it got).
    pub fn write_progress(&self, r: &BuildRecord) -> Result<()> {
        write_json_replace(&self.dir.join(format!("{}.json", r.id)), r)
    }

    fn load_all(&self) -> Result<Vec<BuildRecord>> {
        let mut out = Vec::new();
        for e in fs::read_dir(&self.dir).io_context(|| format!("reading {}", self.dir.display()))? {
            let Ok(e) = e else { continue };
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                let _ = fs::remove_file(e.path());
                continue;
            }
            if let Ok(data) = fs::read(e.path()) {
                if let Ok(r) = serde_json::from_slice::<BuildRecord>(&data) {
                    out.push(r);
                }
            }
        }
        out.sort_by(|a, b| b.started.cmp(&a.started).then_with(|| a.id.cmp(&b.id)));
        Ok(out)
    }

    /// Summaries, newest first.
    pub fn list(&self) -> Result<Vec<BuildRecord>> {
        Ok(self.load_all()?.iter().map(BuildRecord::summary).collect())
    }

    /// One build by full id or unique prefix.
    pub fn get(&self, id: &str) -> Result<BuildRecord> {
        let all = self.load_all()?;
        let found: Vec<&BuildRecord> = all
            .iter()
            .filter(|r| !id.is_empty() && r.id.starts_with(id))
            .collect();
        match found.as_slice() {
            [one] => Ok((*one).clone()),
            [] => Err(EngineError::not_found(format!("no such build: {id}"))),
            _ => Err(EngineError::invalid(format!(
                "build id prefix {id} is ambiguous"
            ))),
        }
    }

    pub fn remove(&self, id: &str) -> Result<()> {
        let r = self.get(id)?;
        if r.status == BuildStatus::Running {
            return Err(EngineError::conflict(format!(
                "build {} is still running",
                &r.id[..12]
            )));
        }
        fs::remove_file(self.dir.join(format!("{}.json", r.id)))
            .io_context(|| format!("removing build record {}", r.id))
    }

    /// Drop the oldest finished records beyond `KEEP`.
    /// Keep the newest `KEEP` records (by when they were last written; a build's record is
    /// written until it ends). Only a listing when there are not too many, and only the records
    /// to drop are read (a running one stays).
    pub fn trim(&self) -> Result<()> {
        let mut files: Vec<(std::time::SystemTime, PathBuf)> = Vec::new();
        for e in fs::read_dir(&self.dir).io_context(|| format!("reading {}", self.dir.display()))? {
            let Ok(e) = e else { continue };
            let name = e.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') || !name.ends_with(".json") {
                continue;
            }
            let modified = e
                .metadata()
                .and_then(|m| m.modified())
                .unwrap_or(std::time::UNIX_EPOCH);
            files.push((modified, e.path()));
        }
        if files.len() <= KEEP {
            return Ok(());
        }
        files.sort_by_key(|f| std::cmp::Reverse(f.0));
        for (_, path) in files.iter().skip(KEEP) {
            let running = fs::read(path)
                .ok()
                .and_then(|d| serde_json::from_slice::<BuildRecord>(&d).ok())
                .is_some_and(|r| r.status == BuildStatus::Running);
            if !running {
                let _ = fs::remove_file(path);
            }
        }
        Ok(())
    }
}

/// A running build's record, saved as it changes but at most every `PACE` (each save creates a
/// file, and a cached step takes well under a millisecond), or at once when asked (`flush`,
/// after a step that did real work and before one that may take long). Snapshots are numbered
/// and a save never replaces a newer one; the writer stops when the build closes it, before the
/// final, durable save.
pub struct Progress {
    latest: std::sync::Mutex<Option<(u64, BuildRecord)>>,
    offered: std::sync::atomic::AtomicU64,
    /// The number of the snapshot on disk.
    written: std::sync::Mutex<u64>,
    save: Box<dyn Fn(&BuildRecord) + Send + Sync>,
    wake: tokio::sync::Notify,
    closed: std::sync::atomic::AtomicBool,
}

const PACE: std::time::Duration = std::time::Duration::from_millis(100);

impl Progress {
    pub fn new(save: impl Fn(&BuildRecord) + Send + Sync + 'static) -> std::sync::Arc<Progress> {
        std::sync::Arc::new(Progress {
            latest: std::sync::Mutex::new(None),
            offered: std::sync::atomic::AtomicU64::new(0),
            written: std::sync::Mutex::new(0),
            save: Box::new(save),
            wake: tokio::sync::Notify::new(),
            closed: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// Offer a new snapshot.
    pub fn update(&self, r: BuildRecord) {
        let mut latest = self.latest.lock().unwrap_or_else(|p| p.into_inner());
        let n = self
            .offered
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
            + 1;
        *latest = Some((n, r));
        drop(latest);
        self.wake.notify_one();
    }

    /// Save the newest snapshot now.
    pub fn flush(&self) {
        if let Some((n, r)) = self.take() {
            self.save_if_newer(n, &r);
        }
    }

    /// Stop the writer (it saves nothing more).
    pub fn close(&self) {
        self.closed.store(true, std::sync::atomic::Ordering::SeqCst);
        self.wake.notify_one();
    }

    fn is_closed(&self) -> bool {
        self.closed.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn take(&self) -> Option<(u64, BuildRecord)> {
        self.latest.lock().unwrap_or_else(|p| p.into_inner()).take()
    }

    fn save_if_newer(&self, n: u64, r: &BuildRecord) {
        let mut written = self.written.lock().unwrap_or_else(|p| p.into_inner());
        if n > *written {
            (self.save)(r);
            *written = n;
        }
    }

    /// Save snapshots as they come, paced; returns when closed.
    pub async fn run(self: std::sync::Arc<Self>) {
        loop {
            // A snapshot offered while we were not waiting left a permit, so none is missed.
            let (n, snapshot) = loop {
                if self.is_closed() {
                    return;
                }
                match self.take() {
                    Some(s) => break s,
                    None => self.wake.notified().await,
                }
            };
            self.save_if_newer(n, &snapshot);
            tokio::select! {
                _ = tokio::time::sleep(PACE) => {}
                _ = async { while !self.is_closed() { self.wake.notified().await; } } => return,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str, started: &str, status: BuildStatus) -> BuildRecord {
        BuildRecord {
            id: id.repeat(64 / id.len()),
            tags: vec![],
            context_dir: None,
            dockerfile: "Dockerfile".into(),
            target: None,
            build_args: Default::default(),
            status,
            started: started.into(),
            finished: None,
            duration_ms: None,
            image_id: None,
            error: None,
            steps: vec![],
        }
    }

    #[test]
    fn running_records_become_cancelled_on_reopen_and_lists_are_newest_first() {
        let dir = tempfile::tempdir().unwrap();
        let recs = BuildRecords::open(dir.path()).unwrap();
        recs.write(&record("a", "2026-01-01T00:00:00Z", BuildStatus::Succeeded))
            .unwrap();
        recs.write(&record("b", "2026-01-02T00:00:00Z", BuildStatus::Running))
            .unwrap();
        let recs = BuildRecords::open(dir.path()).unwrap();
        let list = recs.list().unwrap();
        assert_eq!(list.len(), 2);
        assert!(list[0].id.starts_with('b'));
        assert_eq!(list[0].status, BuildStatus::Cancelled);
        assert!(recs.get("bbbb").is_ok());
        assert!(recs.get("c").is_err());
        recs.remove("a").unwrap();
        assert_eq!(recs.list().unwrap().len(), 1);
    }

    #[test]
    fn trim_keeps_the_newest_and_any_running_one() {
        let dir = tempfile::tempdir().unwrap();
        let recs = BuildRecords::open(dir.path()).unwrap();
        let base = std::time::SystemTime::now() - std::time::Duration::from_secs(10_000);
        let ids: Vec<String> = (0..KEEP + 3).map(|i| format!("{i:064x}")).collect();
        for (i, id) in ids.iter().enumerate() {
            let mut r = record("a", "2026-01-01T00:00:00Z", BuildStatus::Succeeded);
            r.id = id.clone();
            if i == 1 {
                r.status = BuildStatus::Running;
            }
            recs.write_progress(&r).unwrap();
            let f = fs::File::options()
                .write(true)
                .open(recs.dir.join(format!("{id}.json")))
                .unwrap();
            f.set_modified(base + std::time::Duration::from_secs(i as u64))
                .unwrap();
        }
        recs.trim().unwrap();
        let left = fs::read_dir(&recs.dir).unwrap().count();
        assert_eq!(
            left,
            KEEP + 1,
            "the three oldest go, but the running one stays"
        );
        assert!(recs.dir.join(format!("{}.json", ids[1])).exists());
        assert!(!recs.dir.join(format!("{}.json", ids[0])).exists());
        assert!(recs.dir.join(format!("{}.json", ids[KEEP + 2])).exists());
    }

    #[tokio::test]
    async fn progress_saves_the_newest_snapshot_paced_flushes_and_stops_at_close() {
        let saved = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
        let sink = saved.clone();
        let p = Progress::new(move |r: &BuildRecord| sink.lock().unwrap().push(r.started.clone()));
        let writer = tokio::spawn(p.clone().run());
        for i in 1..=5 {
            p.update(record("a", &format!("s{i}"), BuildStatus::Running));
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        // Offered while the writer paces: saved once the pause is over.
        p.update(record("a", "s6", BuildStatus::Running));
        tokio::time::sleep(PACE * 2).await;
        // A flush saves at once, and the paced writer never goes back to an older one.
        p.update(record("a", "s7", BuildStatus::Running));
        p.flush();
        assert_eq!(saved.lock().unwrap().last().map(String::as_str), Some("s7"));
        p.close();
        writer.await.unwrap();
        p.update(record("a", "late", BuildStatus::Running));
        tokio::task::yield_now().await;
        // The writer first ran after all five offers: only the newest of them is saved.
        assert_eq!(*saved.lock().unwrap(), ["s5", "s6", "s7"]);
    }
}
