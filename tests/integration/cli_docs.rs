//! `berth completion` and `berth man`, as a shell and a user get them: the bash script completes
//! berth's real commands and flags, zsh and fish scripts name them, the man pages cover every
//! command, and `--version` names the API the engine serves.

use crate::common;

use std::process::{Command, Stdio};

use common::BERTH;

fn berth(args: &[&str]) -> std::process::Output {
    Command::new(BERTH)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// What bash's completion offers for the words typed so far (the last one being completed).
fn bash_complete(script: &str, words: &[&str]) -> Vec<String> {
    let line = words.join(" ");
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let program = format!(
        // bash calls the function with the command, the word being completed and the one before.
        "{script}\nCOMP_WORDS=({words}); COMP_CWORD={cword}; COMP_LINE='{line}'; COMP_POINT=${{#COMP_LINE}}\n_berth berth '{cur}' '{prev}'\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
        words = quoted.join(" "),
        cword = words.len() - 1,
        cur = words[words.len() - 1],
        prev = words[words.len() - 2],
    );
    // On stdin: the script outgrew what one argument may hold (128 KiB).
    let o = common::with_stdin(Command::new("bash"), program.as_bytes());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty())
        .collect()
}

#[test]
fn bash_completion_completes_commands_and_flags() {
    let o = berth(&["completion", "bash"]);
    assert!(o.status.success());
    let script = String::from_utf8(o.stdout).unwrap();
    let words = bash_complete(&script, &["berth", "eng"]);
    assert_eq!(words, ["engine"], "{words:?}");
    let words = bash_complete(&script, &["berth", "engine", "st"]);
    assert!(
        words.contains(&"status".to_owned()) && words.contains(&"stop".to_owned()),
        "{words:?}"
    );
    let words = bash_complete(&script, &["berth", "run", "--rest"]);
    assert_eq!(words, ["--restart"], "{words:?}");
}

#[test]
fn zsh_and_fish_scripts_name_the_commands() {
    for shell in ["zsh", "fish"] {
        let o = berth(&["completion", shell]);
        assert!(o.status.success(), "{shell}");
        let text = String::from_utf8(o.stdout).unwrap();
        for word in ["berth", "engine", "status", "restart", "network"] {
            assert!(text.contains(word), "{shell} script lacks {word}");
        }
    }
    let o = berth(&["completion", "tcsh"]);
    assert_eq!(
        o.status.code(),
        Some(125),
        "an unknown shell is a bad argument"
    );
}

#[test]
fn man_pages_and_version() {
    let o = berth(&["man"]);
    assert!(o.status.success());
    let page = String::from_utf8(o.stdout).unwrap();
    assert!(
        page.starts_with(".ie") || page.contains(".TH berth 1"),
        "{page}"
    );
    assert!(page.contains("engine"), "{page}");

    let dir = tempfile::tempdir().unwrap();
    let o = berth(&["man", "--dir", dir.path().to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for page in [
        "berth.1",
        "berth-run.1",
        "berth-engine-status.1",
        "berth-engine-install.1",
        "berth-completion.1",
        "berth-network-connect.1",
    ] {
        assert!(dir.path().join(page).exists(), "{page} missing");
    }

    let o = berth(&["--version"]);
    let v = String::from_utf8(o.stdout).unwrap();
    assert_eq!(
        v.trim(),
        format!(
            "berth {} (Docker Engine API {}, accepts {} and later)",
            env!("CARGO_PKG_VERSION"),
            berth_engine::config::API_VERSION,
            berth_engine::config::MIN_API_VERSION
        )
    );
}
