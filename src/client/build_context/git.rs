//! Git build contexts as the docker CLI takes them (`build/internal/git`): a context that is a
//! git URL (`git://…`, `git@…`, `github.com/…`, or an http(s) URL ending in `.git`, each with an
//! optional `#ref:subdir`) is fetched with the `git` command into a temporary directory, which
//! then goes through the same tarring as a local directory, `.dockerignore` included.

use std::path::{Path, PathBuf};
use std::process::Command;

/// docker's `urlutil.IsGitURL`.
pub fn is_git_url(s: &str) -> bool {
    let is_url = s.starts_with("http://") || s.starts_with("https://");
    if is_url {
        let without_fragment = s.split('#').next().unwrap_or(s);
        if without_fragment.ends_with(".git") {
            return true;
        }
    }
    ["git://", "github.com/", "git@"]
        .iter()
        .any(|p| s.starts_with(p))
}

/// What to fetch: the remote, the ref (default "master", as docker), the subdirectory.
#[derive(Debug, PartialEq, Eq)]
pub struct Repo {
    pub remote: String,
    pub reference: String,
    pub subdir: Option<String>,
}

/// docker's `parseRemoteURL`: `github.com/x/y` means https; the fragment is `ref:subdir`.
pub fn parse_remote_url(url: &str) -> Result<Repo, String> {
    let is_transport = ["http://", "https://", "git://", "git@"]
        .iter()
        .any(|p| url.starts_with(p));
    let url = if is_transport {
        url.to_string()
    } else {
        format!("https://{url}")
    };
    let (remote, fragment) = url.split_once('#').unwrap_or((&url, ""));
    let (reference, subdir) = fragment.split_once(':').unwrap_or((fragment, ""));
    let reference = if reference.is_empty() {
        "master"
    } else {
        reference
    };
    if reference.starts_with('-') {
        return Err(format!("invalid refspec: {reference}"));
    }
    Ok(Repo {
        remote: remote.to_string(),
        reference: reference.to_string(),
        subdir: (!subdir.is_empty()).then(|| subdir.to_string()),
    })
}

/// A directory removed when dropped (the checkout lives as long as the context being sent).
#[derive(Debug)]
pub struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Result<TempDir, String> {
        let base = std::env::temp_dir();
        for attempt in 0..16u32 {
            let p = base.join(format!(
                "berth-build-git-{}-{}-{attempt}",
                std::process::id(),
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.subsec_nanos())
                    .unwrap_or(0)
            ));
            match std::fs::create_dir(&p) {
                Ok(()) => return Ok(TempDir(p)),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(format!("creating a directory for the git context: {e}")),
            }
        }
        Err("creating a directory for the git context: too many attempts".into())
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn git(dir: &Path, args: &[&str]) -> Result<String, String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        // Never wait for a password prompt: a private repo fails like a missing one.
        .env("GIT_TERMINAL_PROMPT", "0")
        .output()
        .map_err(|e| format!("unable to find 'git': {e}"))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() {
        Ok(text)
    } else {
        Err(text.trim().to_string())
    }
}

/// docker's `cloneGitRepo`: init, add `origin`, shallow-fetch the ref, check it out (by name,
/// else FETCH_HEAD), update submodules; the context directory (the subdir, kept inside the
/// checkout) and the checkout's guard.
pub fn clone(repo: &Repo) -> Result<(PathBuf, TempDir), String> {
    let tmp = TempDir::new()?;
    let root = tmp.path();
    git(root, &["init", "-q"])
        .map_err(|e| format!("failed to init repo at {}: {e}", root.display()))?;
    git(root, &["remote", "add", "origin", &repo.remote])
        .map_err(|e| format!("failed add origin repo at {}: {e}", root.display()))?;
    git(
        root,
        &["fetch", "--depth", "1", "origin", "--", &repo.reference],
    )
    .map_err(|e| format!("error fetching: {e}"))?;
    if let Err(e) = git(root, &["checkout", "-q", &repo.reference]) {
        git(root, &["checkout", "-q", "FETCH_HEAD"])
            .map_err(|_| format!("error checking out {}: {e}", repo.reference))?;
    }
    git(
        root,
        &["submodule", "update", "--init", "--recursive", "--depth=1"],
    )
    .map_err(|e| format!("error initializing submodules: {e}"))?;
    let dir = match &repo.subdir {
        None => root.to_path_buf(),
        Some(sub) => {
            let real_root = std::fs::canonicalize(root).map_err(|e| e.to_string())?;
            let dir = std::fs::canonicalize(root.join(sub))
                .map_err(|e| format!("error setting git context, not accessible: {sub}: {e}"))?;
            if !dir.starts_with(&real_root) {
                return Err(format!(
                    "error setting git context, subdir {sub} is outside the repository"
                ));
            }
            if !dir.is_dir() {
                return Err(format!("subdir {sub} is not a directory"));
            }
            dir
        }
    };
    Ok((dir, tmp))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_urls_as_docker_recognises_them() {
        for yes in [
            "git://github.com/docker/docker",
            "git@github.com:docker/docker.git",
            "github.com/docker/docker",
            "https://github.com/docker/docker.git",
            "https://github.com/docker/docker.git#branch:sub",
        ] {
            assert!(is_git_url(yes), "{yes}");
        }
        for no in [
            "https://example.com/context.tar.gz",
            "./github.com/x",
            "dir.git",
            "-",
        ] {
            assert!(!is_git_url(no), "{no}");
        }
    }

    #[test]
    fn refs_and_subdirs() {
        assert_eq!(
            parse_remote_url("github.com/a/b").unwrap(),
            Repo {
                remote: "https://github.com/a/b".into(),
                reference: "master".into(),
                subdir: None
            }
        );
        assert_eq!(
            parse_remote_url("git@host:a/b.git#v1:docker/app").unwrap(),
            Repo {
                remote: "git@host:a/b.git".into(),
                reference: "v1".into(),
                subdir: Some("docker/app".into())
            }
        );
        assert_eq!(
            parse_remote_url("https://h/r.git#:sub").unwrap().reference,
            "master"
        );
        assert!(parse_remote_url("https://h/r.git#--upload-pack=x").is_err());
    }

    /// A real fetch from a local repository (the same commands a remote one gets).
    #[test]
    fn clone_fetches_the_ref_and_keeps_the_subdir_inside() {
        let src = tempfile::tempdir().unwrap();
        let s = src.path();
        let run = |args: &[&str]| git(s, args).unwrap();
        run(&["init", "-q", "-b", "main"]);
        std::fs::create_dir(s.join("app")).unwrap();
        std::fs::write(s.join("app/Dockerfile"), "FROM scratch\n").unwrap();
        run(&["add", "."]);
        run(&[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "commit",
            "-q",
            "-m",
            "one",
        ]);
        let remote = format!("file://{}", s.display());
        let repo = Repo {
            remote: remote.clone(),
            reference: "main".into(),
            subdir: Some("app".into()),
        };
        let (dir, guard) = clone(&repo).unwrap();
        assert!(dir.join("Dockerfile").is_file());
        let kept = guard.path().to_path_buf();
        drop(guard);
        assert!(!kept.exists());
        let escape = Repo {
            remote: remote.clone(),
            reference: "main".into(),
            subdir: Some("../..".into()),
        };
        assert!(clone(&escape)
            .unwrap_err()
            .contains("outside the repository"));
        let missing = Repo {
            remote,
            reference: "nosuchref".into(),
            subdir: None,
        };
        assert!(clone(&missing).unwrap_err().starts_with("error fetching"));
    }
}
