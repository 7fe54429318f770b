//! RFC 6901 JSON Pointer: `/metadata/name`, `/items/0/status/phase`, `~1` for `/`, `~0` for `~`.

use serde_json::Value;

use crate::core::error::{Error, Result};

/// One reference token, unescaped.
fn unescape(token: &str, at: usize) -> Result<String> {
    let mut out = String::with_capacity(token.len());
    let mut chars = token.char_indices();
    while let Some((i, c)) = chars.next() {
        if c != '~' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some((_, '0')) => out.push('~'),
            Some((_, '1')) => out.push('/'),
            _ => {
                return Err(Error::invalid(format!(
                    "JSON pointer: at position {}: '~' must be followed by 0 or 1",
                    at + i
                )));
            }
        }
    }
    Ok(out)
}

/// Check a pointer's syntax; the error names the position of the problem.
pub fn parse(pointer: &str) -> Result<Vec<String>> {
    if pointer.is_empty() {
        return Ok(Vec::new());
    }
    if !pointer.starts_with('/') {
        return Err(Error::invalid(format!(
            "JSON pointer {pointer:?}: at position 0: must start with '/' (or be empty for the \
             whole document)"
        )));
    }
    let mut tokens = Vec::new();
    let mut at = 1;
    for raw in pointer[1..].split('/') {
        tokens.push(unescape(raw, at)?);
        at += raw.len() + 1;
    }
    Ok(tokens)
}

/// The value at `pointer`, `None` when absent. Errors only for a malformed pointer.
pub fn lookup<'a>(doc: &'a Value, pointer: &str) -> Result<Option<&'a Value>> {
    let mut cur = doc;
    for token in parse(pointer)? {
        cur = match cur {
            Value::Object(m) => match m.get(&token) {
                Some(v) => v,
                None => return Ok(None),
            },
            Value::Array(a) => {
                // RFC 6901: decimal without leading zeros; "-" is past the end.
                let ok = token == "0" || (!token.starts_with('0') && !token.is_empty());
                match token
                    .parse::<usize>()
                    .ok()
                    .filter(|_| ok)
                    .and_then(|i| a.get(i))
                {
                    Some(v) => v,
                    None => return Ok(None),
                }
            }
            _ => return Ok(None),
        };
    }
    Ok(Some(cur))
}

/// A value as text for shells and C: strings as they are, everything else as JSON.
pub fn to_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rfc6901_examples() {
        let doc = json!({"foo": ["bar", "baz"], "": 0, "a/b": 1, "c%d": 2, "e^f": 3,
                         "g|h": 4, "i\\j": 5, "k\"l": 6, " ": 7, "m~n": 8});
        assert_eq!(lookup(&doc, "").unwrap(), Some(&doc));
        assert_eq!(lookup(&doc, "/foo").unwrap(), Some(&json!(["bar", "baz"])));
        assert_eq!(lookup(&doc, "/foo/0").unwrap(), Some(&json!("bar")));
        assert_eq!(lookup(&doc, "/").unwrap(), Some(&json!(0)));
        assert_eq!(lookup(&doc, "/a~1b").unwrap(), Some(&json!(1)));
        assert_eq!(lookup(&doc, "/m~0n").unwrap(), Some(&json!(8)));
        assert_eq!(lookup(&doc, "/ ").unwrap(), Some(&json!(7)));
        assert_eq!(lookup(&doc, "/foo/2").unwrap(), None);
        assert_eq!(lookup(&doc, "/foo/01").unwrap(), None);
        assert_eq!(lookup(&doc, "/foo/-").unwrap(), None);
        assert_eq!(lookup(&doc, "/nope/x").unwrap(), None);
    }

    #[test]
    fn malformed_pointers_name_the_position() {
        let e = lookup(&Value::Null, "a/b").unwrap_err().to_string();
        assert!(e.contains("position 0"), "{e}");
        let e = lookup(&Value::Null, "/ab/c~2").unwrap_err().to_string();
        assert!(e.contains("position 5"), "{e}");
    }
}
