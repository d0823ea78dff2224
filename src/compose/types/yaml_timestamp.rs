//! go-yaml's `parseTimestamp`, only to know whether a plain scalar would read back as a
//! timestamp (then it is quoted): `2006-1-2`, `2006-1-2T15:4:5.999999999Z07:00` (or `t`) and
//! `2006-1-2 15:4:5.999999999`, with Go's field ranges.

/// Reads 1 or 2 digits (Go's non-padded layout fields), or exactly `n` when `exact`.
fn num(s: &[u8], i: &mut usize, max_len: usize, exact: bool) -> Option<u32> {
    let start = *i;
    while *i < s.len() && *i - start < max_len && s[*i].is_ascii_digit() {
        *i += 1;
    }
    let len = *i - start;
    if len == 0 || (exact && len != max_len) {
        return None;
    }
    std::str::from_utf8(&s[start..*i]).ok()?.parse().ok()
}

fn days_in(year: u32, month: u32) -> u32 {
    match month {
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

pub fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 5 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return false;
    }
    let mut i = 5;
    let year: u32 = s[..4].parse().unwrap_or(0);
    let Some(month) = num(b, &mut i, 2, false) else {
        return false;
    };
    if i >= b.len() || b[i] != b'-' {
        return false;
    }
    i += 1;
    let Some(day) = num(b, &mut i, 2, false) else {
        return false;
    };
    if !(1..=12).contains(&month) || day < 1 || day > days_in(year, month) {
        return false;
    }
    if i == b.len() {
        return true;
    }
    let zoned = match b[i] {
        b'T' | b't' => true,
        b' ' => false,
        _ => return false,
    };
    i += 1;
    let mut clock = [0u32; 3];
    for (n, part) in clock.iter_mut().enumerate() {
        if n > 0 {
            if i >= b.len() || b[i] != b':' {
                return false;
            }
            i += 1;
        }
        match num(b, &mut i, 2, false) {
            Some(v) => *part = v,
            None => return false,
        }
    }
    if clock[0] > 23 || clock[1] > 59 || clock[2] > 59 {
        return false;
    }
    if i < b.len() && b[i] == b'.' {
        let start = i + 1;
        i = start;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    if !zoned {
        return i == b.len();
    }
    match &b[i..] {
        [b'Z'] => true,
        [b'+' | b'-', h1, h2, b':', m1, m2] => [h1, h2, m1, m2].iter().all(|c| c.is_ascii_digit()),
        _ => false,
    }
}
