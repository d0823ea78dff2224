//! What an import sends: an image archive goes to `POST /images/load`; a root file system to
//! `POST /images/create?fromSrc=-` under the name the user gives (by default one made from the
//! file's name) and, if given, a default command. Both stream the file as the body and run as a
//! background task with progress, like a pull.

use std::path::Path;

use crate::client::api::images;
use crate::dashboard::files::Archive;
use crate::dashboard::views::images::split_new_name;
use crate::dashboard::views::Cmd;

/// The file's name as titles show it.
fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// `docker load` of an archive: its own names and layers.
pub fn load_task(archive: &Archive) -> Cmd {
    let load = images::load(false);
    Cmd::StartTask {
        title: format!("load {}", file_name(&archive.path)),
        method: load.method,
        path: load.path,
        body: load.body,
        show: true,
        auth_for: None,
        upload: Some(archive.path.clone()),
    }
}

/// `docker import` of a root file system as `name` (repository[:tag]), with `command` (shell
/// words, may be empty) as the image's `CMD`.
pub fn import_task(archive: &Archive, name: &str, command: &str) -> Result<Cmd, String> {
    let (repo, tag) = split_new_name(name)?;
    let changes: Vec<String> = cmd_change(command)?.into_iter().collect();
    let import = images::import(Some(&repo), Some(&tag), None, &changes);
    Ok(Cmd::StartTask {
        title: format!("import {} as {repo}:{tag}", file_name(&archive.path)),
        method: import.method,
        path: import.path,
        body: import.body,
        show: true,
        auth_for: None,
        upload: Some(archive.path.clone()),
    })
}

/// `sh -c 'echo hi'` → `CMD ["sh","-c","echo hi"]` (the exec form, so nothing is re-parsed by a
/// shell the image may not have); empty → no change.
pub fn cmd_change(command: &str) -> Result<Option<String>, String> {
    let command = command.trim();
    if command.is_empty() {
        return Ok(None);
    }
    let words = shlex::split(command)
        .ok_or_else(|| "the command has an unclosed quote or a stray backslash".to_string())?;
    let json = serde_json::to_string(&words).map_err(|e| e.to_string())?;
    Ok(Some(format!("CMD {json}")))
}

/// Suffixes a tarball's name carries that are not part of the image's name.
const ARCHIVE_SUFFIXES: &[&str] = &[
    ".tar.gz",
    ".tgz",
    ".tar.zst",
    ".tar.zstd",
    ".tzst",
    ".tar",
    ".gz",
    ".zst",
];

/// A repository name made from the file's name, as docker allows it (lower case, letters and
/// digits joined by `.`, `_`, `__` or dashes), with `:latest`:
/// `alpine-minirootfs-3.20.0-x86_64.tar.gz` → `alpine-minirootfs-3.20.0-x86_64:latest`.
pub fn default_name(path: &Path) -> String {
    let mut base = file_name(path).to_lowercase();
    while let Some(s) = ARCHIVE_SUFFIXES.iter().find(|s| base.ends_with(*s)) {
        base.truncate(base.len() - s.len());
    }
    let mut name = String::new();
    // The separators since the last letter or digit, and whether any was not one docker allows.
    let mut run = String::new();
    let mut replaced = false;
    for c in base.chars() {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            if !name.is_empty() && !run.is_empty() {
                let allowed = !replaced
                    && (run.chars().all(|c| c == '-') || matches!(run.as_str(), "." | "_" | "__"));
                name.push_str(if allowed { &run } else { "-" });
            }
            run.clear();
            replaced = false;
            name.push(c);
        } else {
            replaced |= !matches!(c, '.' | '_' | '-');
            run.push(c);
        }
    }
    if name.is_empty() {
        name.push_str("imported");
    }
    format!("{name}:latest")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dashboard::files::{ArchiveKind, Compression};

    fn archive(path: &str, kind: ArchiveKind) -> Archive {
        Archive {
            path: path.into(),
            kind,
            compression: Compression::Gzip,
            size: 4096,
        }
    }

    fn parts(cmd: Cmd) -> (String, String, Option<std::path::PathBuf>) {
        match cmd {
            Cmd::StartTask {
                title,
                path,
                upload,
                ..
            } => (title, path, upload),
            _ => panic!("not a task"),
        }
    }

    #[test]
    fn names_come_from_the_file() {
        for (file, name) in [
            ("/x/busybox.tar", "busybox:latest"),
            (
                "/x/alpine-minirootfs-3.20.0-x86_64.tar.gz",
                "alpine-minirootfs-3.20.0-x86_64:latest",
            ),
            ("/x/Ubuntu Base (24.04).tgz", "ubuntu-base-24.04:latest"),
            ("/x/rootfs.tar.zst", "rootfs:latest"),
            ("/x/..tar", "imported:latest"),
            ("/x/a__b--c._d.tar", "a__b--c-d:latest"),
        ] {
            let n = default_name(Path::new(file));
            assert_eq!(n, name, "{file}");
            split_new_name(&n).unwrap_or_else(|e| panic!("{n}: {e}"));
        }
    }

    #[test]
    fn load_and_import_stream_the_file() {
        let (title, path, upload) = parts(load_task(&archive("/x/save.tar", ArchiveKind::Image)));
        assert_eq!(title, "load save.tar");
        assert_eq!(path, "/images/load?quiet=0");
        assert_eq!(upload.unwrap().to_str(), Some("/x/save.tar"));
        let a = archive("/x/rootfs.tar", ArchiveKind::Rootfs);
        let (title, path, _) = parts(import_task(&a, "mine", "").unwrap());
        assert_eq!(title, "import rootfs.tar as mine:latest");
        assert_eq!(path, "/images/create?fromSrc=-&repo=mine&tag=latest");
        let (_, path, _) =
            parts(import_task(&a, "reg:5000/team/app:1", "sh -c 'echo hi'").unwrap());
        assert_eq!(
            path,
            "/images/create?fromSrc=-&repo=reg%3A5000%2Fteam%2Fapp&tag=1&changes=CMD+%5B%22sh%22%2C%22-c%22%2C%22echo+hi%22%5D"
        );
        let err = |r: Result<Cmd, String>| r.err().expect("refused");
        assert!(err(import_task(&a, "Upper", "")).contains("lowercase"));
        assert!(err(import_task(&a, "", "")).contains("type an image reference"));
        assert!(err(import_task(&a, "ok", "sh -c 'open")).contains("unclosed quote"));
    }
}
