//! Go's float formatting, for output that must match docker compose byte for byte:
//! encoding/json's (`'f'`, or `'e'` below 1e-6 and from 1e21, with `e-07` shortened to `e-7`)
//! and `strconv.FormatFloat(f, 'g', -1, bits)` (what go-yaml and `fmt.Sprint` write). Both use the
//! shortest digits that read back as the same float of `bits` bits, which is what Rust's
//! `{}`/`{:e}` give for f32 and f64.

/// Shortest decimal digits and decimal exponent of `v` (`1.5` → ("15", 0)).
fn shortest(v: f64, bits: u32) -> (String, i32) {
    let e = if bits == 32 {
        format!("{:e}", v as f32)
    } else {
        format!("{v:e}")
    };
    let (mant, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let digits: String = mant.chars().filter(|c| c.is_ascii_digit()).collect();
    (digits, exp.parse().unwrap_or(0))
}

/// `%e` from digits: `d.ddde±XX` (at least two exponent digits).
fn exp_form(neg: bool, digits: &str, exp: i32) -> String {
    let mut s = String::new();
    if neg {
        s.push('-');
    }
    s.push_str(&digits[..1]);
    if digits.len() > 1 {
        s.push('.');
        s.push_str(&digits[1..]);
    }
    s.push('e');
    s.push(if exp < 0 { '-' } else { '+' });
    s.push_str(&format!("{:02}", exp.unsigned_abs()));
    s
}

/// `%f` with the shortest digits.
fn fixed_form(v: f64, bits: u32) -> String {
    if bits == 32 {
        format!("{}", v as f32)
    } else {
        format!("{v}")
    }
}

/// `strconv.FormatFloat(v, 'g', -1, bits)`.
pub fn format_g(v: f64, bits: u32) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    if v == 0.0 {
        return if v.is_sign_negative() { "-0" } else { "0" }.into();
    }
    let (digits, exp) = shortest(v.abs(), bits);
    // strconv: "if precision was the shortest possible, use precision 6 for this decision".
    let eprec = 6;
    if exp < -4 || exp >= eprec {
        exp_form(v < 0.0, &digits, exp)
    } else {
        fixed_form(v, bits)
    }
}

/// encoding/json's float encoding.
pub fn format_json(v: f64, bits: u32) -> String {
    let abs = v.abs();
    let (small, big) = if bits == 32 {
        ((abs as f32) < 1e-6, (abs as f32) >= 1e21)
    } else {
        (abs < 1e-6, abs >= 1e21)
    };
    if abs != 0.0 && (small || big) {
        let (digits, exp) = shortest(abs, bits);
        let mut s = exp_form(v < 0.0, &digits, exp);
        // encoding/json: "clean up e-09 to e-9"
        let n = s.len();
        if s.as_bytes()[n - 4] == b'e' && s.as_bytes()[n - 3] == b'-' && s.as_bytes()[n - 2] == b'0'
        {
            s.remove(n - 2);
        }
        s
    } else if v == 0.0 {
        // json writes -0 as "-0"
        if v.is_sign_negative() { "-0" } else { "0" }.into()
    } else {
        fixed_form(v, bits)
    }
}
