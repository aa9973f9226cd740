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

/// Largest message body read: a document at the 16 MB limit of `adlint check` (larger
/// ones are answered with a diagnostic, not analysed) with room for JSON escaping. A larger
/// body is skipped without being held in memory.
const MAX_BODY: usize = 128 * 1024 * 1024;

/// Longest header line read; the rest of a longer line is skipped without being held.
const MAX_HEADER_LINE: usize = 8 * 1024;

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
    let mut too_long: Option<u64> = None;
    let mut bad: Option<String> = None;
    let mut saw_header = false;
    loop {
        let mut line = Vec::new();
        let n = (&mut *r)
            .take(MAX_HEADER_LINE as u64)
            .read_until(b'\n', &mut line)
            .await?;
        if n == 0 {
            return Ok(None);
        }
        if !line.ends_with(b"\n") && n == MAX_HEADER_LINE {
            skip_line(r).await?;
            saw_header = true;
            bad = Some(format!("a header line over {MAX_HEADER_LINE} bytes"));
            continue;
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
        // A header glued after junk (the rest of a body longer than its Content-Length
        // said): the junk is dropped and the message read, so the stream gets back in
        // step.
        let text = match find_ignore_case(text, "content-length:") {
            Some(i) if i > 0 => {
                eprintln!("adlint lsp: skipped {i} bytes of junk before a header");
                &text[i..]
            }
            _ => text,
        };
        match text.split_once(':') {
            Some((name, value)) if name.trim().eq_ignore_ascii_case("content-length") => {
                match value.trim().parse::<u64>() {
                    Ok(n) if n <= MAX_BODY as u64 => content_length = Some(n as usize),
                    Ok(n) => too_long = Some(n),
                    _ => {
                        bad = Some(format!(
                            "bad Content-Length `{}`",
                            truncate(value.trim(), 80)
                        ))
                    }
                }
            }
            Some(_) => {}
            None => bad = Some(format!("not a header: `{}`", truncate(text, 80))),
        }
    }
    if let Some(n) = too_long {
        // Read past the body so that the next message starts where the client put it.
        let skipped = tokio::io::copy(&mut (&mut *r).take(n), &mut tokio::io::sink()).await?;
        return Ok(Some(match skipped == n {
            true => Frame::BadHeader(format!(
                "a message of {n} bytes, over the {} MiB limit",
                MAX_BODY / (1024 * 1024)
            )),
            false => return Ok(None),
        }));
    }
    match (content_length, bad) {
        (Some(n), None) => {
            let mut body = vec![0; n];
            r.read_exact(&mut body).await?;
            Ok(Some(Frame::Body(body)))
        }
        // Its body is read past too: left in the stream, it was taken for the next
        // message's headers, and every message after it was lost.
        (Some(n), Some(why)) => {
            let skipped =
                tokio::io::copy(&mut (&mut *r).take(n as u64), &mut tokio::io::sink()).await?;
            match skipped == n as u64 {
                true => Ok(Some(Frame::BadHeader(why))),
                false => Ok(None),
            }
        }
        (None, Some(why)) => Ok(Some(Frame::BadHeader(why))),
        (None, None) => Ok(Some(Frame::BadHeader("missing Content-Length".into()))),
    }
}

/// Read up to and including the next newline (or the end), keeping nothing.
async fn skip_line<R: AsyncBufRead + Unpin>(r: &mut R) -> std::io::Result<()> {
    loop {
        let buf = r.fill_buf().await?;
        if buf.is_empty() {
            return Ok(());
        }
        match buf.iter().position(|&b| b == b'\n') {
            Some(i) => {
                r.consume(i + 1);
                return Ok(());
            }
            None => {
                let n = buf.len();
                r.consume(n);
            }
        }
    }
}

/// Where `needle` (ASCII, lower case) starts in `hay`, ignoring ASCII case.
fn find_ignore_case(hay: &str, needle: &str) -> Option<usize> {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    (0..=h.len().checked_sub(n.len())?).find(|&i| h[i..i + n.len()].eq_ignore_ascii_case(n))
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
    /// Pass it to the server: a request (it has an `id`) or a notification of `method`,
    /// or a response (no method).
    Forward {
        method: Option<String>,
        request: bool,
    },
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
    // The parse above keeps the last of two equal keys; the server's decoder refuses the
    // message and, with it, ends the session.
    if let Some(key) = duplicate_key(body) {
        return invalid(&format!("the key `{}` appears twice", truncate(&key, 80)));
    }
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
        Verdict::Forward {
            method: obj
                .get("method")
                .and_then(|m| m.as_str())
                .map(str::to_string),
            request: obj.contains_key("id"),
        }
    } else {
        invalid("not a JSON-RPC 2.0 request, notification or response")
    }
}

/// The first key of a JSON object that appears twice at its top level (nested objects
/// are not looked at: the server decodes `params` by itself, where duplicates are kept as
/// the last).
fn duplicate_key(body: &[u8]) -> Option<String> {
    struct Keys(Option<String>);
    impl<'de> serde::Deserialize<'de> for Keys {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            d.deserialize_map(KeysVisitor)
        }
    }
    struct KeysVisitor;
    impl<'de> serde::de::Visitor<'de> for KeysVisitor {
        type Value = Keys;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Keys, A::Error> {
            let mut seen: Vec<String> = Vec::new();
            let mut twice = None;
            while let Some(key) = map.next_key::<String>()? {
                map.next_value::<serde::de::IgnoredAny>()?;
                if twice.is_none() {
                    match seen.contains(&key) {
                        true => twice = Some(key),
                        // A message has a handful of keys; a long list is no message.
                        false if seen.len() < 64 => seen.push(key),
                        false => {}
                    }
                }
            }
            Ok(Keys(twice))
        }
    }
    serde_json::from_slice::<Keys>(body).ok()?.0
}

fn error_response(id: serde_json::Value, code: i64, message: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "jsonrpc": "2.0",
        "id": id,
        "error": {"code": code, "message": message},
    }))
    .expect("a JSON value serializes")
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    fn message(body: &str) -> Vec<u8> {
        format!("Content-Length: {}\r\n\r\n{body}", body.len()).into_bytes()
    }

    async fn frames<R: AsyncBufRead + Unpin>(mut r: R) -> Vec<Result<String, String>> {
        let mut out = Vec::new();
        while let Some(frame) = read_frame(&mut r).await.unwrap() {
            out.push(match frame {
                Frame::Body(b) => Ok(String::from_utf8(b).unwrap()),
                Frame::BadHeader(why) => Err(why),
            });
        }
        out
    }

    #[test]
    fn a_key_given_twice_is_an_invalid_request() {
        let body = br#"{"jsonrpc":"2.0","id":5,"method":"shutdown","method":"foo"}"#;
        let Verdict::Reject(response) = check_message(body) else {
            panic!("forwarded");
        };
        let response: serde_json::Value = serde_json::from_slice(&response).unwrap();
        assert_eq!(response["id"], 5);
        assert_eq!(response["error"]["code"], -32600);
        assert!(response["error"]["message"]
            .as_str()
            .unwrap()
            .contains("`method` appears twice"));
        // Inside `params` the server takes the last, as JSON parsers do.
        let body = br#"{"jsonrpc":"2.0","id":6,"method":"shutdown","params":{"a":1,"a":2}}"#;
        assert!(matches!(check_message(body), Verdict::Forward { .. }));
    }

    #[tokio::test]
    async fn a_huge_header_line_is_skipped_without_losing_the_next_message() {
        let mut input = vec![b'X'; 10 * MAX_HEADER_LINE];
        input.extend_from_slice(b"\r\n\r\n");
        input.extend(message("{}"));
        let got = frames(tokio::io::BufReader::new(input.as_slice())).await;
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(got[0].as_ref().unwrap_err().contains("header line over"));
        assert_eq!(got[1].as_deref(), Ok("{}"));
    }

    #[tokio::test]
    async fn a_bad_header_beside_a_length_skips_its_body_and_the_next_message_is_read() {
        let mut input = b"X-Junk: ".to_vec();
        input.extend(vec![b'a'; 2 * MAX_HEADER_LINE]);
        input.extend_from_slice(b"\r\nContent-Length: 2\r\n\r\n{}");
        input.extend(message("{\"b\":2}"));
        let got = frames(tokio::io::BufReader::new(input.as_slice())).await;
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(got[0].as_ref().unwrap_err().contains("header line over"));
        assert_eq!(got[1].as_deref(), Ok("{\"b\":2}"));
    }

    #[tokio::test]
    async fn a_body_longer_than_its_length_loses_only_its_excess() {
        // The first says 2 bytes and sends 5: the 3 left are glued to the next header.
        let mut input = b"Content-Length: 2\r\n\r\n{}xyz".to_vec();
        input.extend(message("{\"c\":3}"));
        input.extend(message("{\"d\":4}"));
        let got = frames(tokio::io::BufReader::new(input.as_slice())).await;
        assert_eq!(got.len(), 3, "{got:?}");
        assert_eq!(got[0].as_deref(), Ok("{}"));
        assert_eq!(got[1].as_deref(), Ok("{\"c\":3}"));
        assert_eq!(got[2].as_deref(), Ok("{\"d\":4}"));
    }

    #[tokio::test]
    async fn a_body_over_the_limit_is_skipped_and_the_stream_stays_in_step() {
        let n = MAX_BODY + 3;
        let head = format!("Content-Length: {n}\r\n\r\n").into_bytes();
        let next = message("{\"a\":1}");
        let input = head
            .as_slice()
            .chain(tokio::io::repeat(b'{').take(n as u64))
            .chain(next.as_slice());
        let got = frames(tokio::io::BufReader::new(input)).await;
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(got[0]
            .as_ref()
            .unwrap_err()
            .contains("over the 128 MiB limit"));
        assert_eq!(got[1].as_deref(), Ok("{\"a\":1}"));
        // A body cut short by the end of input ends the stream.
        let cut = format!("Content-Length: {n}\r\n\r\nabc").into_bytes();
        assert!(frames(tokio::io::BufReader::new(cut.as_slice()))
            .await
            .is_empty());
    }
}
