//! JSON merge patch (RFC 7386) and JSON patch (RFC 6902) over `serde_json::Value`.

use serde_json::Value;

/// Apply an RFC 7386 merge patch to `target` in place.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(p) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Default::default());
    }
    if let Value::Object(t) = target {
        for (k, v) in p {
            if v.is_null() {
                t.remove(k);
            } else {
                merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
    }
}

/// Apply an RFC 6902 JSON patch (`add`, `remove`, `replace`, `move`, `copy`, `test`). The
/// document is only changed when every operation succeeds. The error says which operation
/// failed and why.
pub fn json_patch(doc: &mut Value, ops: &Value) -> Result<(), String> {
    let Value::Array(ops) = ops else {
        return Err("a JSON patch must be an array of operations".into());
    };
    let mut work = doc.clone();
    for (i, op) in ops.iter().enumerate() {
        apply_op(&mut work, op).map_err(|e| format!("operation {i}: {e}"))?;
    }
    *doc = work;
    Ok(())
}

fn str_field<'a>(op: &'a Value, name: &str) -> Result<&'a str, String> {
    op.get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("missing string field {name:?}"))
}

fn value_field(op: &Value) -> Result<Value, String> {
    op.get("value")
        .cloned()
        .ok_or_else(|| "missing field \"value\"".to_owned())
}

fn apply_op(doc: &mut Value, op: &Value) -> Result<(), String> {
    let path = str_field(op, "path")?;
    match str_field(op, "op")? {
        "add" => add(doc, path, value_field(op)?),
        "remove" => remove(doc, path).map(drop),
        "replace" => {
            let v = value_field(op)?;
            *lookup_mut(doc, path)? = v;
            Ok(())
        }
        "move" => {
            let from = str_field(op, "from")?;
            if path.starts_with(from) && path[from.len()..].starts_with('/') {
                return Err(format!("cannot move {from} into its own child {path}"));
            }
            let v = remove(doc, from)?;
            add(doc, path, v)
        }
        "copy" => {
            let v = lookup_mut(doc, str_field(op, "from")?)?.clone();
            add(doc, path, v)
        }
        "test" => {
            let want = value_field(op)?;
            if *lookup_mut(doc, path)? == want {
                Ok(())
            } else {
                Err(format!("testing value {path} failed"))
            }
        }
        other => Err(format!("unknown op {other:?}")),
    }
}

/// Split a JSON pointer into unescaped reference tokens.
fn tokens(pointer: &str) -> Result<Vec<String>, String> {
    if pointer.is_empty() {
        return Ok(Vec::new());
    }
    let Some(rest) = pointer.strip_prefix('/') else {
        return Err(format!("path {pointer:?} is not a JSON pointer"));
    };
    Ok(rest
        .split('/')
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect())
}

/// An array index token: digits without leading zeros.
fn index(token: &str, pointer: &str) -> Result<usize, String> {
    let ok = !token.is_empty()
        && token.bytes().all(|b| b.is_ascii_digit())
        && (token == "0" || !token.starts_with('0'));
    ok.then(|| token.parse().ok())
        .flatten()
        .ok_or_else(|| format!("path {pointer}: {token:?} is not an array index"))
}

fn lookup_mut<'a>(doc: &'a mut Value, pointer: &str) -> Result<&'a mut Value, String> {
    let mut cur = doc;
    for t in tokens(pointer)? {
        cur = match cur {
            Value::Object(m) => m.get_mut(&t),
            Value::Array(a) => {
                let i = index(&t, pointer)?;
                a.get_mut(i)
            }
            _ => None,
        }
        .ok_or_else(|| format!("path {pointer} does not exist"))?;
    }
    Ok(cur)
}

/// The parent container of `pointer` and the last token.
fn parent_mut<'a>(doc: &'a mut Value, pointer: &str) -> Result<(&'a mut Value, String), String> {
    let mut toks = tokens(pointer)?;
    let Some(last) = toks.pop() else {
        return Err("the whole document cannot be the target here".into());
    };
    let parent_ptr: String = toks
        .iter()
        .map(|t| format!("/{}", t.replace('~', "~0").replace('/', "~1")))
        .collect();
    Ok((lookup_mut(doc, &parent_ptr)?, last))
}

fn add(doc: &mut Value, pointer: &str, v: Value) -> Result<(), String> {
    if pointer.is_empty() {
        *doc = v;
        return Ok(());
    }
    let (parent, last) = parent_mut(doc, pointer)?;
    match parent {
        Value::Object(m) => {
            m.insert(last, v);
            Ok(())
        }
        Value::Array(a) => {
            let i = if last == "-" {
                a.len()
            } else {
                index(&last, pointer)?
            };
            if i > a.len() {
                return Err(format!("path {pointer}: index out of range"));
            }
            a.insert(i, v);
            Ok(())
        }
        _ => Err(format!("path {pointer}: parent is not a container")),
    }
}

fn remove(doc: &mut Value, pointer: &str) -> Result<Value, String> {
    let (parent, last) = parent_mut(doc, pointer)?;
    match parent {
        Value::Object(m) => m
            .remove(&last)
            .ok_or_else(|| format!("path {pointer} does not exist")),
        Value::Array(a) => {
            let i = index(&last, pointer)?;
            if i >= a.len() {
                return Err(format!("path {pointer} does not exist"));
            }
            Ok(a.remove(i))
        }
        _ => Err(format!("path {pointer} does not exist")),
    }
}
