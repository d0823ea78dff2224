//! JSON progress streams (`/images/create`, pull, load): newline-separated JSON messages; an
//! `error`/`errorDetail` inside a 200 is a failure.

use anyhow::Result;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use serde_json::Value;

/// One displayable line for a progress message, or the error it carries.
pub fn render_message(msg: &Value) -> Result<Option<String>, String> {
    if let Some(err) = msg
        .get("errorDetail")
        .and_then(|d| d.get("message"))
        .or_else(|| msg.get("error"))
        .and_then(Value::as_str)
    {
        return Err(err.to_string());
    }
    if let Some(s) = msg.get("stream").and_then(Value::as_str) {
        return Ok(Some(s.trim_end_matches('\n').to_string()));
    }
    let status = msg.get("status").and_then(Value::as_str).unwrap_or("");
    let id = msg.get("id").and_then(Value::as_str);
    let progress = msg.get("progress").and_then(Value::as_str);
    if status.is_empty() && id.is_none() {
        return Ok(None);
    }
    let mut line = match id {
        Some(id) => format!("{id}: {status}"),
        None => status.to_string(),
    };
    if let Some(p) = progress {
        line.push(' ');
        line.push_str(p);
    }
    Ok(Some(line))
}

/// Read a progress stream to its end, calling `on_message` for each decoded JSON object.
/// Returns the error message of an in-stream failure.
pub async fn read_stream(
    mut body: Incoming,
    mut on_message: impl FnMut(&Value) -> Result<()>,
) -> Result<()> {
    let mut buf: Vec<u8> = Vec::new();
    let mut handle = |line: &[u8]| -> Result<()> {
        if line.iter().all(u8::is_ascii_whitespace) {
            return Ok(());
        }
        let v: Value = serde_json::from_slice(line)?;
        on_message(&v)
    };
    while let Some(frame) = body.frame().await {
        let frame = frame?;
        if let Some(data) = frame.data_ref() {
            buf.extend_from_slice(data);
            while let Some(pos) = buf.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = buf.drain(..=pos).collect();
                handle(&line)?;
            }
        }
    }
    handle(&buf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn messages() {
        assert_eq!(
            render_message(&json!({"status":"sha256:abc"})).unwrap(),
            Some("sha256:abc".into())
        );
        assert_eq!(
            render_message(&json!({"status":"Downloading","id":"l1","progress":"[=> ]"})).unwrap(),
            Some("l1: Downloading [=> ]".into())
        );
        assert_eq!(
            render_message(&json!({"errorDetail":{"message":"bad tar"},"error":"bad tar"})),
            Err("bad tar".into())
        );
        assert_eq!(render_message(&json!({"aux":{"ID":"x"}})).unwrap(), None);
    }
}
