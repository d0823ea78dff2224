//! Signal names as docker accepts them: "SIGTERM", "TERM", "term", "15".

use std::str::FromStr;

use nix::sys::signal::Signal;

use crate::error::{EngineError, Result};

pub fn parse(s: &str) -> Result<i32> {
    let s = s.trim();
    if let Ok(n) = s.parse::<i32>() {
        if (1..=64).contains(&n) {
            return Ok(n);
        }
        return Err(EngineError::invalid(format!("Invalid signal: {s}")));
    }
    let upper = s.to_ascii_uppercase();
    let name = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    if let Some(rt) = name.strip_prefix("SIGRTMIN+") {
        if let Ok(n) = rt.parse::<i32>() {
            return Ok(libc::SIGRTMIN() + n);
        }
    }
    Signal::from_str(&name)
        .map(|sig| sig as i32)
        .map_err(|_| EngineError::invalid(format!("Invalid signal: {s}")))
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn parses_docker_signal_forms() {
        assert_eq!(parse("SIGTERM").unwrap(), 15);
        assert_eq!(parse("kill").unwrap(), 9);
        assert_eq!(parse("2").unwrap(), 2);
        assert_eq!(parse("SIGUSR1").unwrap(), 10);
        assert!(parse("SIGNOPE").is_err());
        assert!(parse("0").is_err());
    }
}
