//! Framing between the client and tower-lsp-server.
//!
//! tower-lsp-server 0.23 stops reading its input after the first message it cannot decode
//! (its `FramedRead` ends the stream after a decoder error), so one malformed message would
//! end the session. Every message therefore goes through this small proxy first: frames
//! whose body is not JSON get a `-32700 Parse error` response, frames that are JSON but not
//! a JSON-RPC request, notification or response get `-32600 Invalid request` (with the
//! message's `id` when it has one), and only well-formed messages reach the server. The
//! server's output is read back frame by frame and queued with those error responses and
//! with the diagnostics the server serialises itself (`super::Outbox`), so that one writer
//! writes whole frames in the order they were queued.

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Largest message body accepted (a whole 64 MB file plus JSON escaping).
const MAX_BODY: usize = 256 * 1024 * 1024;

/// One frame read from a stream.
pub(crate) enum Frame {
    Body(Vec<u8>),
    /// Headers without a usable `Content-Length`; skipped.
    BadHeader(String),
}

/// Read the next frame; `None` at end of input.
pub(crate) async fn read_frame<R: AsyncBufRead + Unpin>(
    r: &mut R,
) -> std::io::Result<Option<Frame>> {
    let mut content_length: Option<usize> = None;
    let mut bad: Option<String> = None;
    let mut saw_header = false;
    loop {
        let mut line = Vec::new();
        let n = r.read_until(b'\n', &mut line).await?;
        if n == 0 {
            return Ok(None);
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\r', '\n']);
        if text.is_empty() {
            if !saw_header {
                // Blank lines between messages are tolerated.
                continue;
            }
            break;
        }
        saw_header = true;
        match text.split_once(':') {
            Some((name, value)) if name.trim().eq_ignore_ascii_case("content-length") => {
                match value.trim().parse::<usize>() {
                    Ok(n) if n <= MAX_BODY => content_length = Some(n),
                    _ => bad = Some(format!("bad Content-Length `{}`", value.trim())),
                }
            }
            Some(_) => {}
            None => bad = Some(format!("not a header: `{}`", truncate(text, 80))),
        }
    }
    match (content_length, bad) {
        (Some(n), None) => {
            let mut body = vec![0; n];
            r.read_exact(&mut body).await?;
            Ok(Some(Frame::Body(body)))
        }
        (_, Some(why)) => Ok(Some(Frame::BadHeader(why))),
        (None, None) => Ok(Some(Frame::BadHeader("missing Content-Length".into()))),
    }
}

fn truncate(s: &str, n: usize) -> &str {
    match s.char_indices().nth(n) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

pub(crate) async fn write_frame<W: AsyncWrite + Unpin + ?Sized>(
    w: &mut W,
    body: &[u8],
) -> std::io::Result<()> {
    let header = format!("Content-Length: {}\r\n\r\n", body.len());
    let mut buf = Vec::with_capacity(header.len() + body.len());
    buf.extend_from_slice(header.as_bytes());
    buf.extend_from_slice(body);
    w.write_all(&buf).await?;
    w.flush().await
}

/// What to do with a frame from the client.
pub(crate) enum Verdict {
    Forward,
    /// Reply with this JSON-RPC error response instead.
    Reject(Vec<u8>),
}

/// Check that a body is a JSON-RPC 2.0 message tower-lsp-server can decode.
pub(crate) fn check_message(body: &[u8]) -> Verdict {
    let value: serde_json::Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => {
            return Verdict::Reject(error_response(
                serde_json::Value::Null,
                -32700,
                &format!("Parse error: {e}"),
            ))
        }
    };
    let id = value.get("id").cloned().unwrap_or(serde_json::Value::Null);
    let id = match id {
        serde_json::Value::Number(_) | serde_json::Value::String(_) => id,
        _ => serde_json::Value::Null,
    };
    let invalid = |why: &str| {
        Verdict::Reject(error_response(
            id.clone(),
            -32600,
            &format!("Invalid request: {why}"),
        ))
    };
    let Some(obj) = value.as_object() else {
        return invalid("not a JSON object");
    };
    if obj.get("jsonrpc").and_then(|v| v.as_str()) != Some("2.0") {
        return invalid("`jsonrpc` must be \"2.0\"");
    }
    let well_formed = match obj.get("method") {
        Some(m) => {
            m.as_str().is_some_and(|m| !m.is_empty())
                && serde_json::from_value::<tower_lsp_server::jsonrpc::Request>(value.clone())
                    .is_ok()
        }
        None => {
            obj.contains_key("id")
                && (obj.contains_key("result") != obj.contains_key("error"))
                && serde_json::from_value::<tower_lsp_server::jsonrpc::Response>(value.clone())
                    .is_ok()
        }
    };
    if well_formed {
        Verdict::Forward
    } else {
        invalid("not a JSON-RPC 2.0 request, notification or response")
    }
}

fn error_response(id: serde_json::Value, code: i64, message: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "jsonrpc": "2.0",
        "id": id,
        "error": {"code": code, "message": message},
    }))
    .expect("a JSON value serializes")
}
