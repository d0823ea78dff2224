//! Durations as compose-go reads and writes them: xhit/go-str2duration's `ParseDuration`
//! (Go's `time.ParseDuration` with `d` and `w` units added) and Go's `Duration.String()`, both
//! ported with Go's integer arithmetic so that what reads back prints the same.

use berth_engine::util::go::quote;

/// Nanoseconds per unit.
fn unit(u: &str) -> Option<u128> {
    Some(match u {
        "ns" => 1,
        "us" | "µs" | "μs" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        "d" => 86_400_000_000_000,
        "w" => 604_800_000_000_000,
        _ => return None,
    })
}

/// `str2duration.ParseDuration`: `[-+]?([0-9]*(\.[0-9]*)?[a-z]+)+`, or a bare "0"; refused
/// in Go's words (`time: unknown unit "y" in duration "1y"`).
pub fn parse(orig: &str) -> Result<i64, String> {
    let invalid = || format!("time: invalid duration {}", quote(orig));
    let mut s = orig;
    let mut neg = false;
    if let Some(c) = s.chars().next() {
        if c == '-' || c == '+' {
            neg = c == '-';
            s = &s[1..];
        }
    }
    if s == "0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(invalid());
    }
    const LIMIT: u128 = 1 << 63;
    let mut total: u128 = 0;
    while !s.is_empty() {
        let b = s.as_bytes();
        if !(b[0] == b'.' || b[0].is_ascii_digit()) {
            return Err(invalid());
        }
        let int_len = b.iter().take_while(|c| c.is_ascii_digit()).count();
        let mut v: u128 = 0;
        for c in &b[..int_len] {
            v = v * 10 + u128::from(c - b'0');
            if v > LIMIT {
                return Err(invalid());
            }
        }
        s = &s[int_len..];
        let pre = int_len > 0;
        let (mut f, mut scale, mut post) = (0u128, 1f64, false);
        if s.starts_with('.') {
            s = &s[1..];
            let frac_len = s.bytes().take_while(|c| c.is_ascii_digit()).count();
            post = frac_len > 0;
            let mut overflow = false;
            for c in s[..frac_len].bytes() {
                if overflow {
                    continue;
                }
                let y = f * 10 + u128::from(c - b'0');
                if y > LIMIT {
                    overflow = true;
                    continue;
                }
                f = y;
                scale *= 10.0;
            }
            s = &s[frac_len..];
        }
        if !pre && !post {
            return Err(invalid());
        }
        let unit_len = s
            .find(|c: char| c == '.' || c.is_ascii_digit())
            .unwrap_or(s.len());
        if unit_len == 0 {
            return Err(format!("time: missing unit in duration {}", quote(orig)));
        }
        let u = unit(&s[..unit_len]).ok_or_else(|| {
            format!(
                "time: unknown unit {} in duration {}",
                quote(&s[..unit_len]),
                quote(orig)
            )
        })?;
        s = &s[unit_len..];
        if v > LIMIT / u {
            return Err(invalid());
        }
        v *= u;
        if f > 0 {
            v += (f as f64 * (u as f64 / scale)) as u128;
            if v > LIMIT {
                return Err(invalid());
            }
        }
        total += v;
        if total > LIMIT {
            return Err(invalid());
        }
    }
    if neg {
        return Ok((total as i128).wrapping_neg() as i64);
    }
    i64::try_from(total).map_err(|_| invalid())
}

/// Go's `time.Duration.String()`: "1h2m3s", "1m30s", "500ms", "1.5µs", "0s".
pub fn format(d: i64) -> String {
    if d == 0 {
        return "0s".into();
    }
    let neg = d < 0;
    let u = d.unsigned_abs();
    let mut out = if u < 1_000_000_000 {
        // Below a second: one unit with a fraction.
        let (unit, div) = match u {
            0..=999 => ("ns", 1),
            1_000..=999_999 => ("µs", 1_000),
            _ => ("ms", 1_000_000),
        };
        format!("{}{unit}", with_fraction(u, div))
    } else {
        let secs = u / 1_000_000_000;
        let (h, m) = (secs / 3600, (secs / 60) % 60);
        let s = with_fraction(u % 60_000_000_000, 1_000_000_000);
        if h > 0 {
            format!("{h}h{m}m{s}s")
        } else if m > 0 {
            format!("{m}m{s}s")
        } else {
            format!("{s}s")
        }
    };
    if neg {
        out.insert(0, '-');
    }
    out
}

/// `v / div` with its decimal fraction, trailing zeros dropped.
fn with_fraction(v: u64, div: u64) -> String {
    let (whole, frac) = (v / div, v % div);
    if frac == 0 {
        return whole.to_string();
    }
    let width = div.ilog10() as usize;
    let digits = format!("{frac:0width$}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}
