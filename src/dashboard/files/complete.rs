//! Shell-style path completion for a path prompt: Tab extends the typed name to the longest
//! prefix its matches share; one match is completed whole (a directory with a trailing `/`, so
//! the next Tab goes inside it); several are listed. `~` is the home directory and stays `~` in
//! the text, as in a shell. Hidden entries match only once a `.` is typed.

use std::path::Path;

use super::expand;

/// The most names a listing keeps (a directory of thousands is not read on screen anyway).
const MAX_CANDIDATES: usize = 500;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Completion {
    /// The typed text, completed as far as the matches agree.
    pub text: String,
    /// The matching names (directories end with `/`), sorted, when more than one matched.
    pub candidates: Vec<String>,
    /// How many matched in all (more than `candidates` holds when the list was cut).
    pub matched: usize,
}

/// Completes `typed` against the directory it names (`home` for `~`, `cwd` for relative paths).
pub fn complete(typed: &str, home: Option<&Path>, cwd: &Path) -> Result<Completion, String> {
    // "~" alone is the home directory: complete it to "~/" like a directory name.
    let typed = if typed == "~" && home.is_some() {
        "~/"
    } else {
        typed
    };
    let (dir_text, prefix) = match typed.rfind('/') {
        Some(i) => typed.split_at(i + 1),
        None => ("", typed),
    };
    let dir = if dir_text.is_empty() {
        cwd.to_path_buf()
    } else {
        expand(dir_text, home, cwd)
    };
    let entries =
        std::fs::read_dir(&dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    let mut names: Vec<String> = Vec::new();
    for entry in entries.flatten() {
        let Ok(name) = entry.file_name().into_string() else {
            // A name that is not UTF-8 cannot be typed into the prompt either.
            continue;
        };
        if !name.starts_with(prefix) || (name.starts_with('.') && !prefix.starts_with('.')) {
            continue;
        }
        // Following symlinks: a link to a directory completes like one.
        let is_dir = std::fs::metadata(entry.path()).is_ok_and(|m| m.is_dir());
        names.push(if is_dir { format!("{name}/") } else { name });
    }
    names.sort();
    let matched = names.len();
    match names.as_slice() {
        [] if prefix.is_empty() => Err(format!("{} is empty", dir.display())),
        [] => Err(format!(
            "nothing in {} starts with \"{prefix}\"",
            dir.display()
        )),
        [one] => Ok(Completion {
            text: format!("{dir_text}{one}"),
            candidates: Vec::new(),
            matched,
        }),
        many => {
            let common = common_prefix(many);
            names.truncate(MAX_CANDIDATES);
            Ok(Completion {
                text: format!("{dir_text}{common}"),
                candidates: names,
                matched,
            })
        }
    }
}

/// The longest prefix every name shares (by characters, never splitting one).
fn common_prefix(names: &[String]) -> String {
    let Some(first) = names.first() else {
        return String::new();
    };
    let mut prefix: &str = first;
    for n in &names[1..] {
        let len: usize = prefix
            .chars()
            .zip(n.chars())
            .take_while(|(a, b)| a == b)
            .map(|(a, _)| a.len_utf8())
            .sum();
        prefix = &prefix[..len];
    }
    prefix.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// images/{alpine.tar.gz, alpine-3.20.tar, busybox.tar, .hidden.tar, nested/}, and a link
    /// to nested.
    fn tree() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let images = dir.path().join("images");
        std::fs::create_dir_all(images.join("nested")).unwrap();
        for f in [
            "alpine.tar.gz",
            "alpine-3.20.tar",
            "busybox.tar",
            ".hidden.tar",
        ] {
            std::fs::write(images.join(f), b"x").unwrap();
        }
        std::os::unix::fs::symlink(images.join("nested"), images.join("link")).unwrap();
        dir
    }

    #[test]
    fn one_match_completes_whole_and_directories_get_a_slash() {
        let t = tree();
        let c = complete("im", None, t.path()).unwrap();
        assert_eq!(c.text, "images/");
        assert!(c.candidates.is_empty());
        let c = complete("images/b", None, t.path()).unwrap();
        assert_eq!(c.text, "images/busybox.tar");
        let c = complete("images/n", None, t.path()).unwrap();
        assert_eq!(c.text, "images/nested/");
        // A symlink to a directory is completed as a directory.
        let c = complete("images/li", None, t.path()).unwrap();
        assert_eq!(c.text, "images/link/");
        // Absolute paths work from anywhere.
        let abs = format!("{}/images/bu", t.path().display());
        let c = complete(&abs, None, Path::new("/")).unwrap();
        assert_eq!(c.text, format!("{}/images/busybox.tar", t.path().display()));
    }

    #[test]
    fn several_matches_complete_their_common_prefix_and_are_listed() {
        let t = tree();
        let c = complete("images/a", None, t.path()).unwrap();
        assert_eq!(c.text, "images/alpine");
        assert_eq!(c.candidates, vec!["alpine-3.20.tar", "alpine.tar.gz"]);
        assert_eq!(c.matched, 2);
        // An empty name lists the directory, without hidden entries...
        let c = complete("images/", None, t.path()).unwrap();
        assert_eq!(c.text, "images/");
        assert_eq!(
            c.candidates,
            vec![
                "alpine-3.20.tar",
                "alpine.tar.gz",
                "busybox.tar",
                "link/",
                "nested/"
            ]
        );
        // ...which show once a dot is typed.
        let c = complete("images/.", None, t.path()).unwrap();
        assert_eq!(c.text, "images/.hidden.tar");
    }

    #[test]
    fn home_is_expanded_for_reading_and_kept_in_the_text() {
        let t = tree();
        // "~" is the home directory; its only entry is then completed too.
        let c = complete("~", Some(t.path()), Path::new("/")).unwrap();
        assert_eq!(c.text, "~/images/");
        let c = complete("~/images/bu", Some(t.path()), Path::new("/")).unwrap();
        assert_eq!(c.text, "~/images/busybox.tar");
    }

    #[test]
    fn no_match_and_missing_directories_say_so() {
        let t = tree();
        let e = complete("images/zz", None, t.path()).unwrap_err();
        assert!(e.contains("nothing in") && e.contains("\"zz\""), "{e}");
        let e = complete("nope/a", None, t.path()).unwrap_err();
        assert!(e.starts_with("cannot read"), "{e}");
        let e = complete("images/nested/", None, t.path()).unwrap_err();
        assert!(e.ends_with("is empty"), "{e}");
    }

    #[test]
    fn common_prefixes_never_split_a_character() {
        let names = vec!["añb".to_string(), "añc".to_string()];
        assert_eq!(common_prefix(&names), "añ");
        let names = vec!["ñ".to_string(), "n".to_string()];
        assert_eq!(common_prefix(&names), "");
    }
}
