//! docker compose's yes/no question (its `prompt` package): on a terminal, survey's
//! `? Going to remove demo-web-1 (y/N)` answered by `y`/`yes` or `n`/`no` (Enter: no), then
//! rewritten with the answer; from a pipe, the bare message and the first word of a line, read
//! as docker compose reads it (`y`, or anything Go's ParseBool calls true).

use std::io::{BufRead, IsTerminal, Write};

use anyhow::Result;

/// survey's colours: a bold bright green `?`, the message bold, the hint white, answers cyan.
fn question(message: &str) -> String {
    format!("\x1b[1;92m? \x1b[0m\x1b[1;99m{message} \x1b[0m")
}

/// docker compose's `utils.StringToBool` on the first word of the answer.
pub fn piped_answer(line: &str) -> bool {
    let word = line
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_lowercase();
    word == "y" || matches!(word.as_str(), "1" | "t" | "true")
}

/// survey's Confirm: Some(answer) for a valid reply, None to ask again.
pub fn terminal_answer(line: &str, default: bool) -> Option<bool> {
    match line.trim().to_lowercase().as_str() {
        "" => Some(default),
        "y" | "yes" => Some(true),
        "n" | "no" => Some(false),
        _ => None,
    }
}

/// Ask `message`; false by default.
pub fn confirm(message: &str) -> Result<bool> {
    let stdin = std::io::stdin();
    let mut out = std::io::stdout();
    if !stdin.is_terminal() {
        write!(out, "{message}")?;
        out.flush()?;
        let mut line = String::new();
        stdin.lock().read_line(&mut line)?;
        return Ok(piped_answer(&line));
    }
    loop {
        write!(out, "\r\x1b[2K{}\x1b[37m(y/N) \x1b[0m", question(message))?;
        out.flush()?;
        let mut line = String::new();
        if stdin.lock().read_line(&mut line)? == 0 {
            writeln!(out)?;
            return Ok(false);
        }
        // Back over the echoed answer: the question line is redrawn below.
        write!(out, "\x1b[1A\r\x1b[2K")?;
        match terminal_answer(&line, false) {
            Some(yes) => {
                let answer = if yes { "Yes" } else { "No" };
                writeln!(out, "{}\x1b[36m{answer}\x1b[0m", question(message))?;
                return Ok(yes);
            }
            None => {
                writeln!(
                    out,
                    "\x1b[1;31mX Sorry, your reply was invalid: {:?} is not a valid answer, please try again.\x1b[0m",
                    line.trim()
                )?;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn piped_answers_read_as_docker_compose_reads_them() {
        for yes in ["y\n", "Y", "true", "T", "1 and more", "  y  "] {
            assert!(piped_answer(yes), "{yes:?}");
        }
        // Go's ParseBool knows no "yes".
        for no in ["", "\n", "n", "yes", "no", "x y"] {
            assert!(!piped_answer(no), "{no:?}");
        }
    }

    #[test]
    fn terminal_answers_read_as_survey_reads_them() {
        assert_eq!(terminal_answer("\n", false), Some(false));
        assert_eq!(terminal_answer("YES\n", false), Some(true));
        assert_eq!(terminal_answer("n", true), Some(false));
        assert_eq!(terminal_answer("maybe", false), None);
    }
}
