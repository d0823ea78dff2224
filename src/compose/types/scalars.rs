//! compose-go's scalar types with their own decoding and marshalling (types/duration.go,
//! bytes.go, cpus.go, device.go, types.go's FileMode, command.go, healthcheck.go): each parses
//! the forms a compose file may use and writes what compose-go writes.

use serde::de::{self, Deserializer};

use super::decode::{Decode, Scalar};
use super::mapping::newtype;
use super::node::{Format, GoMarshal, Node};
use super::{durations, shellwords};
use berth_engine::util::go::quote;

newtype!(
    /// A time.Duration in nanoseconds, from a Go duration string with compose-go's extra `d` and
    /// `w` units (xhit/go-str2duration); a bare number other than 0 has no unit and is refused,
    /// as compose-go formats it with `fmt.Sprint` and parses the text. Written as Go's
    /// `Duration.String()` ("1m30s").
    Duration(i64)
);
newtype!(
    /// A byte count, from an integer or a size with a binary unit ("512m", "1g",
    /// docker's `RAMInBytes`). Written as a decimal string, as compose-go's MarshalJSON does.
    UnitBytes(i64)
);
newtype!(
    /// A CPU count as a float32 ("0.5", 1.5, 2).
    NanoCPUs(f32)
);
newtype!(
    /// A file mode, from an octal string ("0440") or an integer. Written as "0" + octal.
    FileMode(i64)
);
newtype!(
    /// A GPU count: a number, or "all" (-1).
    DeviceCount(i64)
);
newtype!(
    /// A command, from a list or a string split like a shell would (see [`shellwords`]). A
    /// present empty command (`[]` or "") is kept apart from an absent one (`None` in its
    /// `Option`), because it clears the image's command.
    ShellCommand(Vec<String>)
);
newtype!(
    /// A healthcheck test: a list, or a string meaning `["CMD-SHELL", string]`.
    HealthCheckTest(Vec<String>)
);

impl Decode for Duration {
    fn decode<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = Scalar::decode(d)?.sprint();
        durations::parse(&text)
            .map(Duration)
            .map_err(de::Error::custom)
    }
}

impl GoMarshal for Duration {
    fn marshal(&self, _: Format) -> Node {
        Node::Str(durations::format(self.0))
    }
    fn is_empty(&self, _: Format) -> bool {
        self.0 == 0
    }
}

impl Decode for UnitBytes {
    fn decode<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Scalar::decode(d)? {
            // Plain digits are read exactly (docker compose's own `config` output reads back);
            // anything with a unit goes through docker's RAMInBytes.
            Scalar::Str(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => s
                .parse()
                .map(UnitBytes)
                .or_else(|_| ram_in_bytes(&s).map(UnitBytes))
                .map_err(de::Error::custom),
            Scalar::Str(s) => ram_in_bytes(&s).map(UnitBytes).map_err(de::Error::custom),
            other => super::decode::scalar_to_i128(&other)
                .ok()
                .and_then(|i| i64::try_from(i).ok())
                .map(UnitBytes)
                .ok_or_else(|| de::Error::custom(format!("invalid size: {}", other.sprint()))),
        }
    }
}

/// docker/go-units' `RAMInBytes` as docker compose v2.40 links it (the parser without a
/// regexp, whose errors name the bad suffix): a number, an optional space, then `b` or a
/// binary unit `k`/`m`/`g`/`t`/`p` with an optional `b` or `ib`, any case.
fn ram_in_bytes(size: &str) -> Result<i64, String> {
    let Some(sep) = size.rfind(|c: char| c.is_ascii_digit() || c == '.' || c == ' ') else {
        return Err(format!("invalid size: '{size}'"));
    };
    let (num, sfx) = if size.as_bytes()[sep] == b' ' {
        (&size[..sep], &size[sep + 1..])
    } else {
        (&size[..=sep], &size[sep + 1..])
    };
    let value: f64 = num
        .parse()
        .map_err(|_| format!("strconv.ParseFloat: parsing {}: invalid syntax", quote(num)))?;
    if value < 0.0 {
        return Err(format!("invalid size: '{size}'"));
    }
    if sfx.is_empty() {
        return Ok(value as i64);
    }
    let bad = |s: &str| Err(format!("invalid suffix: '{s}'"));
    if sfx.len() > 3 {
        return bad(sfx);
    }
    let lower = sfx.to_lowercase();
    let b = lower.as_bytes();
    if b[0] == b'b' {
        return if b.len() > 1 {
            bad(&lower)
        } else {
            Ok(value as i64)
        };
    }
    let mult: f64 = match b[0] {
        b'k' => 1024.0,
        b'm' => 1024f64.powi(2),
        b'g' => 1024f64.powi(3),
        b't' => 1024f64.powi(4),
        b'p' => 1024f64.powi(5),
        _ => return bad(&lower),
    };
    if (b.len() == 2 && b[1] != b'b') || (b.len() == 3 && &lower[1..] != "ib") {
        return bad(&lower);
    }
    Ok((value * mult) as i64)
}

impl GoMarshal for UnitBytes {
    fn marshal(&self, _: Format) -> Node {
        Node::Str(self.0.to_string())
    }
    fn is_empty(&self, _: Format) -> bool {
        self.0 == 0
    }
}

impl Decode for NanoCPUs {
    fn decode<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Scalar::decode(d)?;
        super::decode::scalar_to_f64(&v)
            .map(|f| NanoCPUs(f as f32))
            .map_err(|_| {
                de::Error::custom(format!(
                    "strconv.ParseFloat: parsing {}: invalid syntax",
                    quote(&v.sprint())
                ))
            })
    }
}

impl GoMarshal for NanoCPUs {
    fn marshal(&self, _: Format) -> Node {
        Node::F32(self.0)
    }
    fn is_empty(&self, _: Format) -> bool {
        self.0 == 0.0
    }
}

impl Decode for FileMode {
    fn decode<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Scalar::decode(d)? {
            // strconv.ParseInt(v, 8, 64): digits 0-7 with an optional sign, no prefix.
            Scalar::Str(s) => {
                let digits = s.strip_prefix(['+', '-']).unwrap_or(&s);
                let ok = !digits.is_empty() && digits.bytes().all(|b| (b'0'..=b'7').contains(&b));
                ok.then(|| i64::from_str_radix(&s, 8).ok())
                    .flatten()
                    .map(FileMode)
                    .ok_or_else(|| de::Error::custom(format!("invalid file mode {}", quote(&s))))
            }
            Scalar::Int(i) => Ok(FileMode(i)),
            other => Err(de::Error::custom(format!(
                "unexpected value {} for mode",
                other.sprint()
            ))),
        }
    }
}

impl GoMarshal for FileMode {
    fn marshal(&self, _: Format) -> Node {
        // fmt.Sprintf("0%o", int64(f)), which writes a negative value as "0-1".
        let s = if self.0 < 0 {
            format!("0-{:o}", self.0.unsigned_abs())
        } else {
            format!("0{:o}", self.0)
        };
        Node::Str(s)
    }
    fn is_empty(&self, _: Format) -> bool {
        self.0 == 0
    }
}

impl Decode for DeviceCount {
    fn decode<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Scalar::decode(d)? {
            Scalar::Int(i) => Ok(DeviceCount(i)),
            Scalar::Str(s) if s.eq_ignore_ascii_case("all") => Ok(DeviceCount(-1)),
            Scalar::Str(s) => s.parse().map(DeviceCount).map_err(|_| {
                de::Error::custom(format!(
                    "invalid value {}, the only value allowed is 'all' or a number",
                    quote(&s)
                ))
            }),
            other => Err(de::Error::custom(format!(
                "invalid type {} for device count",
                other.sprint()
            ))),
        }
    }
}

impl GoMarshal for DeviceCount {
    fn marshal(&self, _: Format) -> Node {
        Node::Int(self.0)
    }
    fn is_empty(&self, _: Format) -> bool {
        self.0 == 0
    }
}

/// A list of strings (compose-go asserts each item is one).
fn string_items<'de, D: Deserializer<'de>>(
    items: Vec<serde_json::Value>,
) -> Result<Vec<String>, D::Error> {
    items
        .into_iter()
        .map(|v| match v {
            serde_json::Value::String(s) => Ok(s),
            other => Err(de::Error::custom(format!(
                "expected a string in command, got {other}"
            ))),
        })
        .collect()
}

impl Decode for ShellCommand {
    fn decode<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match serde_json::Value::decode(d)? {
            serde_json::Value::String(s) => shellwords::split(&s)
                .map(ShellCommand)
                .map_err(de::Error::custom),
            serde_json::Value::Array(a) => string_items::<D>(a).map(ShellCommand),
            other => Err(de::Error::custom(format!(
                "unexpected value {other} for a command"
            ))),
        }
    }
}

impl Decode for HealthCheckTest {
    fn decode<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match serde_json::Value::decode(d)? {
            serde_json::Value::String(s) => Ok(HealthCheckTest(vec!["CMD-SHELL".into(), s])),
            serde_json::Value::Array(a) => string_items::<D>(a).map(HealthCheckTest),
            other => Err(de::Error::custom(format!(
                "unexpected value {other} for healthcheck.test"
            ))),
        }
    }
}

impl GoMarshal for ShellCommand {
    fn marshal(&self, f: Format) -> Node {
        self.0.marshal(f)
    }
    /// Only absence is empty (go-yaml's `IsZero` of a nil slice); that is the `Option` around
    /// it, so a present command never is.
    fn is_empty(&self, _: Format) -> bool {
        false
    }
}

impl GoMarshal for HealthCheckTest {
    fn marshal(&self, f: Format) -> Node {
        self.0.marshal(f)
    }
    fn is_empty(&self, f: Format) -> bool {
        GoMarshal::is_empty(&self.0, f)
    }
}
