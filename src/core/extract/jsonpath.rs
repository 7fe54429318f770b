//! A kubectl-style JSONPath subset, for `-o jsonpath=...` and the C API.
//!
//! Supported (as in `kubectl get -o jsonpath`): text outside braces; `{.a.b}`, `{$.a}`,
//! `{['key']}`, `{.a\.b}` (escaped dot in a key), `{.items[0]}`, `{.items[-1]}`, slices
//! `[start:end]`, wildcards `[*]` and `.*`, recursive descent `..name`, filters
//! `[?(@.path OP literal)]` with `==`, `!=`, `<`, `<=`, `>`, `>=` (and `[?(@.path)]` for "exists"),
//! string literals `{"\t"}`, and `{range EXPR}...{end}`. Not supported: unions (`['a','b']`,
//! `[0,2]`, `.a,.b`: the error shows the expressions to write instead) and functions.
//!
//! Output, as kubectl's: the results of one `{expr}` are joined with a space; strings print as
//! they are, numbers, booleans and `null` as JSON, objects and arrays as compact JSON. A missing
//! field prints nothing (kubectl's default `allowMissingKeys`). Errors in a template name the
//! byte position.

use serde_json::Value;

use crate::core::error::{Error, Result};
use crate::core::extract::pointer::to_text;

#[derive(Debug, Clone, PartialEq)]
enum Step {
    Field(String),
    Wildcard,
    Index(i64),
    Slice(Option<i64>, Option<i64>),
    /// `..name` (or `..*` with `None`).
    Descend(Option<String>),
    Filter(Box<Filter>),
}

#[derive(Debug, Clone, PartialEq)]
struct Path {
    steps: Vec<Step>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, PartialEq)]
struct Filter {
    path: Path,
    cmp: Option<(Op, Value)>,
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Text(String),
    Expr(Path),
    Range(Path, Vec<Node>),
}

/// A parsed template, ready to render many documents.
#[derive(Debug, Clone, PartialEq)]
pub struct Template(Vec<Node>);

fn err(at: usize, msg: impl std::fmt::Display) -> Error {
    Error::invalid(format!("JSONPath: at position {at}: {msg}"))
}

struct Parser<'a> {
    s: &'a [u8],
    /// Offset of `s` in the whole template (for messages).
    base: usize,
    i: usize,
    /// `s` is a whole `{expr}` (not a range's or a filter's path), so a union's error can
    /// show the expressions to write instead.
    whole: bool,
}

impl Parser<'_> {
    fn at(&self) -> usize {
        self.base + self.i
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(|b| b == b' ') {
            self.i += 1;
        }
    }

    fn ident(&mut self) -> Result<String> {
        let mut out = Vec::new();
        while let Some(b) = self.peek() {
            if b == b'\\' {
                match self.s.get(self.i + 1) {
                    Some(&n) => {
                        out.push(n);
                        self.i += 2;
                    }
                    None => return Err(err(self.at(), "a trailing backslash")),
                }
            } else if b.is_ascii_alphanumeric()
                || matches!(b, b'_' | b'-' | b'/' | b'$')
                || b >= 0x80
            {
                out.push(b);
                self.i += 1;
            } else {
                break;
            }
        }
        if out.is_empty() {
            return Err(err(self.at(), "expected a field name"));
        }
        String::from_utf8(out).map_err(|_| err(self.at(), "a field name is not UTF-8"))
    }

    fn quoted(&mut self) -> Result<String> {
        let q = self
            .peek()
            .ok_or_else(|| err(self.at(), "expected a quote"))?;
        self.i += 1;
        let mut out = Vec::new();
        loop {
            match self.peek() {
                None => return Err(err(self.at(), "an unterminated string")),
                Some(b) if b == q => {
                    self.i += 1;
                    break;
                }
                Some(b'\\') => {
                    let e = self.s.get(self.i + 1).copied();
                    out.push(match e {
                        Some(b'n') => b'\n',
                        Some(b't') => b'\t',
                        Some(b'r') => b'\r',
                        Some(c) => c,
                        None => return Err(err(self.at(), "a trailing backslash")),
                    });
                    self.i += 2;
                }
                Some(b) => {
                    out.push(b);
                    self.i += 1;
                }
            }
        }
        String::from_utf8(out).map_err(|_| err(self.at(), "a string is not UTF-8"))
    }

    fn int(&mut self) -> Option<i64> {
        let start = self.i;
        self.eat(b'-');
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.i += 1;
        }
        std::str::from_utf8(&self.s[start..self.i])
            .ok()
            .and_then(|t| t.parse().ok())
            .or_else(|| {
                self.i = start;
                None
            })
    }

    fn literal(&mut self) -> Result<Value> {
        self.skip_ws();
        match self.peek() {
            Some(b'\'' | b'"') => Ok(Value::String(self.quoted()?)),
            _ => {
                let start = self.i;
                while self.peek().is_some_and(|b| !matches!(b, b')' | b' ')) {
                    self.i += 1;
                }
                let t = std::str::from_utf8(&self.s[start..self.i]).unwrap_or_default();
                serde_json::from_str::<Value>(t)
                    .ok()
                    .filter(|v| !v.is_object() && !v.is_array())
                    .ok_or_else(|| err(self.base + start, format!("{t:?} is not a literal")))
            }
        }
    }

    fn filter(&mut self) -> Result<Filter> {
        // After "[?(".
        self.skip_ws();
        if !(self.eat(b'@')) {
            return Err(err(self.at(), "a filter must start with @"));
        }
        let path = self.path_steps(true)?;
        self.skip_ws();
        let op = [
            ("==", Op::Eq),
            ("!=", Op::Ne),
            ("<=", Op::Le),
            (">=", Op::Ge),
            ("<", Op::Lt),
            (">", Op::Gt),
        ]
        .into_iter()
        .find(|(t, _)| self.s[self.i..].starts_with(t.as_bytes()));
        let cmp = match op {
            Some((t, op)) => {
                self.i += t.len();
                Some((op, self.literal()?))
            }
            None => None,
        };
        self.skip_ws();
        if !self.eat(b')') {
            return Err(err(self.at(), "expected ')' to close the filter"));
        }
        Ok(Filter { path, cmp })
    }

    fn bracket(&mut self) -> Result<Step> {
        // After "[".
        let open = self.i - 1;
        self.skip_ws();
        let step = match self.peek() {
            Some(b'*') => {
                self.i += 1;
                Step::Wildcard
            }
            Some(b'\'' | b'"') => Step::Field(self.quoted()?),
            Some(b'?') => {
                self.i += 1;
                if !self.eat(b'(') {
                    return Err(err(self.at(), "expected '(' after '?'"));
                }
                Step::Filter(Box::new(self.filter()?))
            }
            _ => {
                let a = self.int();
                if self.eat(b':') {
                    Step::Slice(a, self.int())
                } else {
                    Step::Index(a.ok_or_else(|| {
                        err(
                            self.at(),
                            "expected an index, '*', a quoted key or a filter",
                        )
                    })?)
                }
            }
        };
        self.skip_ws();
        if self.peek() == Some(b',') {
            return Err(self.union(Some(open)));
        }
        if !self.eat(b']') {
            return Err(err(self.at(), "expected ']'"));
        }
        Ok(step)
    }

    /// The error for a union (a ',' at the current position): kubectl's JSONPath has them, this
    /// subset does not, so the message names the expression and, where it can, spells out one
    /// expression per member, which prints the same values. `open` is the position of the
    /// union's '[' (`None` for `.a,.b`).
    fn union(&self, open: Option<usize>) -> Error {
        let text = String::from_utf8_lossy(self.s);
        let instead = self
            .whole
            .then(|| union_members(&text, open))
            .flatten()
            .map(|m| {
                let exprs: Vec<String> = m.iter().map(|e| format!("{{{e}}}")).collect();
                format!(
                    "; write one expression per member instead: {}",
                    exprs.join(" ")
                )
            })
            .unwrap_or_else(|| {
                "; write one expression per member instead, e.g. {.a} {.b}".to_owned()
            });
        err(
            self.at(),
            format!("unions (',') are not supported in {{{text}}}{instead}"),
        )
    }

    /// Steps until the end of the path (a space, ')' in a filter, or the end).
    fn path_steps(&mut self, in_filter: bool) -> Result<Path> {
        let mut steps = Vec::new();
        loop {
            match self.peek() {
                Some(b'.') => {
                    self.i += 1;
                    if self.eat(b'.') {
                        if self.eat(b'*') {
                            steps.push(Step::Descend(None));
                        } else {
                            steps.push(Step::Descend(Some(self.ident()?)));
                        }
                    } else if self.eat(b'*') {
                        steps.push(Step::Wildcard);
                    } else if self.peek() == Some(b'[') || self.peek().is_none() {
                        // "." alone (the current node), or ".[0]".
                    } else {
                        steps.push(Step::Field(self.ident()?));
                    }
                }
                Some(b'[') => {
                    self.i += 1;
                    steps.push(self.bracket()?);
                }
                None => break,
                Some(b' ' | b')' | b'=' | b'!' | b'<' | b'>') if in_filter => break,
                Some(b',') => return Err(self.union(None)),
                Some(b) => {
                    return Err(err(self.at(), format!("unexpected {:?}", b as char)));
                }
            }
        }
        Ok(Path { steps })
    }
}

/// Split `s` at the commas outside quotes and brackets, from `from` up to the `]` that closes
/// the bracket at `from` (or to the end when `from` is 0 and not a bracket).
fn split_members(s: &str, from: usize, bracketed: bool) -> Option<(Vec<&str>, usize)> {
    let b = s.as_bytes();
    let (mut depth, mut quote, mut start) = (0usize, None::<u8>, from);
    let mut parts = Vec::new();
    let mut j = from;
    while j < b.len() {
        match (quote, b[j]) {
            (Some(_), b'\\') => j += 1,
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, b'"' | b'\'') => quote = Some(b[j]),
            (None, b'[' | b'(') => depth += 1,
            (None, b']') if bracketed && depth == 0 => {
                parts.push(&s[start..j]);
                return Some((parts, j + 1));
            }
            (None, b']' | b')') => depth = depth.saturating_sub(1),
            (None, b',') if depth == 0 => {
                parts.push(&s[start..j]);
                start = j + 1;
            }
            _ => {}
        }
        j += 1;
    }
    (!bracketed).then(|| {
        parts.push(&s[start..]);
        (parts, b.len())
    })
}

/// The expressions a union stands for: `a[m1,m2]rest` gives `a[m1]rest` and `a[m2]rest`,
/// `.a,.b` gives `.a` and `.b`. `None` when the union is not well formed.
fn union_members(s: &str, open: Option<usize>) -> Option<Vec<String>> {
    let members: Vec<String> = match open {
        Some(open) => {
            let (parts, end) = split_members(s, open + 1, true)?;
            let (prefix, rest) = (&s[..open], &s[end..]);
            parts
                .iter()
                .map(|m| format!("{prefix}[{}]{rest}", m.trim()))
                .collect()
        }
        None => split_members(s, 0, false)?
            .0
            .iter()
            .map(|m| m.trim().to_owned())
            .collect(),
    };
    members
        .iter()
        .all(|m| !m.is_empty() && !m.ends_with("[]"))
        .then_some(members)
}

fn parse_path(s: &str, base: usize, whole: bool) -> Result<Path> {
    let mut p = Parser {
        s: s.as_bytes(),
        base,
        i: 0,
        whole,
    };
    p.eat(b'$');
    p.eat(b'@');
    p.path_steps(false)
}

impl Template {
    /// Parse a template such as `{.metadata.name}` or `{range .items[*]}{.x}{"\n"}{end}`.
    pub fn parse(template: &str) -> Result<Template> {
        let b = template.as_bytes();
        let mut stack: Vec<(Path, Vec<Node>, usize)> = Vec::new();
        let mut cur: Vec<Node> = Vec::new();
        let mut i = 0;
        let mut text = String::new();
        while i < b.len() {
            if b[i] != b'{' {
                let ch = template[i..].chars().next().unwrap_or_default();
                text.push(ch);
                i += ch.len_utf8();
                continue;
            }
            if !text.is_empty() {
                cur.push(Node::Text(std::mem::take(&mut text)));
            }
            // Find the closing brace, skipping quoted strings.
            let start = i + 1;
            let mut j = start;
            let mut quote: Option<u8> = None;
            while j < b.len() {
                match (quote, b[j]) {
                    (Some(q), c) if c == q => quote = None,
                    (Some(_), b'\\') => j += 1,
                    (None, b'"' | b'\'') => quote = Some(b[j]),
                    (None, b'}') => break,
                    _ => {}
                }
                j += 1;
            }
            if j >= b.len() {
                return Err(err(i, "'{' is never closed"));
            }
            let inner = template[start..j].trim();
            let inner_at =
                start + (template[start..j].len() - template[start..j].trim_start().len());
            if inner == "end" {
                let (path, outer, _) =
                    stack.pop().ok_or_else(|| err(i, "{end} without {range}"))?;
                let body = std::mem::replace(&mut cur, outer);
                cur.push(Node::Range(path, body));
            } else if let Some(expr) = inner.strip_prefix("range ") {
                let path = parse_path(expr.trim(), inner_at + 6, false)?;
                stack.push((path, std::mem::take(&mut cur), i));
            } else if inner.starts_with('"') || inner.starts_with('\'') {
                let mut p = Parser {
                    s: inner.as_bytes(),
                    base: inner_at,
                    i: 0,
                    whole: false,
                };
                let s = p.quoted()?;
                if p.i != inner.len() {
                    return Err(err(inner_at + p.i, "text after a string literal"));
                }
                cur.push(Node::Text(s));
            } else if inner.is_empty() {
                return Err(err(i, "an empty {}"));
            } else {
                cur.push(Node::Expr(parse_path(inner, inner_at, true)?));
            }
            i = j + 1;
        }
        if !text.is_empty() {
            cur.push(Node::Text(text));
        }
        if let Some((_, _, at)) = stack.pop() {
            return Err(err(at, "{range} without {end}"));
        }
        Ok(Template(cur))
    }

    /// The values one expression (a template that is exactly `{expr}`) selects in a
    /// document, for callers that judge values rather than print them (`core::wait`'s
    /// `jsonpath=` conditions). `None` for any other template (text, several expressions,
    /// `{range}`).
    pub fn values<'a>(&self, doc: &'a Value) -> Option<Vec<&'a Value>> {
        match self.0.as_slice() {
            [Node::Expr(p)] => Some(eval(p, doc, doc)),
            _ => None,
        }
    }

    /// Render the template over a document.
    pub fn render(&self, doc: &Value) -> String {
        let mut out = String::new();
        render(&self.0, doc, doc, &mut out);
        out
    }
}

fn render(nodes: &[Node], root: &Value, cur: &Value, out: &mut String) {
    for n in nodes {
        match n {
            Node::Text(t) => out.push_str(t),
            Node::Expr(p) => {
                let vals = eval(p, root, cur);
                for (k, v) in vals.iter().enumerate() {
                    if k > 0 {
                        out.push(' ');
                    }
                    out.push_str(&to_text(v));
                }
            }
            Node::Range(p, body) => {
                for v in eval(p, root, cur) {
                    render(body, root, v, out);
                }
            }
        }
    }
}

fn index(len: usize, i: i64) -> Option<usize> {
    let i = if i < 0 { len as i64 + i } else { i };
    (0..len as i64).contains(&i).then_some(i as usize)
}

fn descend<'a>(v: &'a Value, name: Option<&str>, out: &mut Vec<&'a Value>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                if name.is_none_or(|n| n == k) {
                    out.push(child);
                }
            }
            for child in m.values() {
                descend(child, name, out);
            }
        }
        Value::Array(a) => {
            if name.is_none() {
                out.extend(a.iter());
            }
            for child in a {
                descend(child, name, out);
            }
        }
        _ => {}
    }
}

fn compare(a: &Value, op: Op, b: &Value) -> bool {
    use std::cmp::Ordering;
    let ord = match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64().partial_cmp(&y.as_f64()),
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        _ if a == b => Some(Ordering::Equal),
        _ => None,
    };
    match op {
        Op::Eq => ord == Some(Ordering::Equal),
        Op::Ne => ord != Some(Ordering::Equal),
        Op::Lt => ord == Some(Ordering::Less),
        Op::Le => matches!(ord, Some(Ordering::Less | Ordering::Equal)),
        Op::Gt => ord == Some(Ordering::Greater),
        Op::Ge => matches!(ord, Some(Ordering::Greater | Ordering::Equal)),
    }
}

fn eval<'a>(p: &Path, root: &'a Value, cur: &'a Value) -> Vec<&'a Value> {
    let _ = root;
    let mut set = vec![cur];
    for step in &p.steps {
        let mut next = Vec::new();
        for v in set {
            match step {
                Step::Field(f) => {
                    if let Some(x) = v.get(f.as_str()) {
                        next.push(x);
                    }
                }
                Step::Wildcard => match v {
                    Value::Object(m) => next.extend(m.values()),
                    Value::Array(a) => next.extend(a.iter()),
                    _ => {}
                },
                Step::Index(i) => {
                    if let Some(a) = v.as_array()
                        && let Some(k) = index(a.len(), *i)
                    {
                        next.push(&a[k]);
                    }
                }
                Step::Slice(s, e) => {
                    if let Some(a) = v.as_array() {
                        let len = a.len() as i64;
                        let clamp = |x: i64| if x < 0 { (len + x).max(0) } else { x.min(len) };
                        let (s, e) = (clamp(s.unwrap_or(0)), clamp(e.unwrap_or(len)));
                        if s < e {
                            next.extend(&a[s as usize..e as usize]);
                        }
                    }
                }
                Step::Descend(name) => descend(v, name.as_deref(), &mut next),
                Step::Filter(f) => {
                    let items: Vec<&Value> = match v {
                        Value::Array(a) => a.iter().collect(),
                        other => vec![other],
                    };
                    for item in items {
                        let found = eval(&f.path, root, item);
                        let keep = match &f.cmp {
                            None => !found.is_empty(),
                            Some((op, lit)) => found.iter().any(|x| compare(x, *op, lit)),
                        };
                        if keep {
                            next.push(item);
                        }
                    }
                }
            }
        }
        set = next;
    }
    set
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The input of kubectl's own JSONPath documentation.
    fn kubectl_doc() -> Value {
        json!({
          "kind": "List",
          "items": [
            {"kind": "None", "metadata": {"name": "127.0.0.1",
              "labels": {"kubernetes.io/hostname": "127.0.0.1"}},
             "status": {"capacity": {"cpu": "4"},
              "addresses": [{"type": "LegacyHostIP", "address": "127.0.0.1"}]}},
            {"kind": "None", "metadata": {"name": "127.0.0.2"},
             "status": {"capacity": {"cpu": "8"},
              "addresses": [{"type": "LegacyHostIP", "address": "127.0.0.2"},
                            {"type": "another", "address": "127.0.0.3"}]}}
          ],
          "users": [
            {"name": "myself", "user": {}},
            {"name": "e2e", "user": {"username": "admin", "password": "secret"}}
          ]
        })
    }

    fn r(t: &str) -> String {
        Template::parse(t).unwrap().render(&kubectl_doc())
    }

    #[test]
    fn kubectl_documented_examples() {
        assert_eq!(r("{.kind}"), "List");
        assert_eq!(r("{['kind']}"), "List");
        assert_eq!(r("{$.kind}"), "List");
        assert_eq!(r("{..name}"), "127.0.0.1 127.0.0.2 myself e2e");
        assert_eq!(r("{.items[*].metadata.name}"), "127.0.0.1 127.0.0.2");
        assert_eq!(r("{.users[0].name}"), "myself");
        assert_eq!(r("{.items[-1:].metadata.name}"), "127.0.0.2");
        assert_eq!(r("{.items[0:1].metadata.name}"), "127.0.0.1");
        assert_eq!(r("{.users[?(@.name==\"e2e\")].user.password}"), "secret");
        assert_eq!(
            r("{range .items[*]}[{.metadata.name}, {.status.capacity}] {end}"),
            "[127.0.0.1, {\"cpu\":\"4\"}] [127.0.0.2, {\"cpu\":\"8\"}] "
        );
        assert_eq!(
            r("{.items[0].metadata.labels.kubernetes\\.io/hostname}"),
            "127.0.0.1"
        );
        assert_eq!(
            r("{range .items[*]}{.metadata.name}{\"\\t\"}{.status.capacity.cpu}{\"\\n\"}{end}"),
            "127.0.0.1\t4\n127.0.0.2\t8\n"
        );
    }

    #[test]
    fn filters_missing_fields_and_non_strings() {
        let doc = json!({"status": {"conditions": [
            {"type": "Ready", "status": "True", "n": 3},
            {"type": "Scheduled", "status": "False", "n": 1}]}, "flag": true, "none": null});
        let t = |s: &str| Template::parse(s).unwrap().render(&doc);
        assert_eq!(
            t("{.status.conditions[?(@.type==\"Ready\")].status}"),
            "True"
        );
        assert_eq!(t("{.status.conditions[?(@.n > 2)].type}"), "Ready");
        assert_eq!(
            t("{.status.conditions[?(@.type!='Ready')].type}"),
            "Scheduled"
        );
        assert_eq!(t("{.missing.field}"), "");
        assert_eq!(t("a{.flag}b{.none}"), "atruebnull");
        assert_eq!(t("{.status.conditions[0].n}"), "3");
    }

    #[test]
    fn malformed_templates_name_the_position() {
        for (t, at) in [
            ("{.a", "position 0"),
            ("x{.a[}", "position 5"),
            ("{range .a}x", "position 0"),
            ("{end}", "position 0"),
            ("{.a[?(b)]}", "position 6"),
        ] {
            let e = Template::parse(t).unwrap_err().to_string();
            assert!(e.contains(at), "{t}: {e}");
        }
    }

    #[test]
    fn unions_name_the_expression_and_what_to_write_instead() {
        for (t, instead) in [
            (
                "{.metadata['name','namespace']}",
                "{.metadata['name']} {.metadata['namespace']}",
            ),
            ("x{.items[0, 2].a}", "{.items[0].a} {.items[2].a}"),
            (
                "{.metadata.name,.metadata.namespace}",
                "{.metadata.name} {.metadata.namespace}",
            ),
            ("{.a['x,y','z']}", "{.a['x,y']} {.a['z']}"),
        ] {
            let e = Template::parse(t).unwrap_err().to_string();
            let expr = &t[t.find('{').unwrap()..];
            assert!(
                e.contains(&format!("unions (',') are not supported in {expr}")),
                "{t}: {e}"
            );
            assert!(
                e.ends_with(&format!(
                    "write one expression per member instead: {instead}"
                )),
                "{t}: {e}"
            );
            // The suggestion parses and is what kubectl's union prints.
            Template::parse(instead).unwrap();
        }
        // In a range or a filter there is no one rewrite to show; the message still says what.
        let e = Template::parse("{range .a,.b}{end}")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("unions (',') are not supported in {.a,.b}"),
            "{e}"
        );
        assert!(e.contains("e.g. {.a} {.b}"), "{e}");
    }

    /// Random templates and pointers over random documents never panic (a cheap stand-in for
    /// a fuzzer: 20,000 deterministic cases from an alphabet of the grammar's characters).
    #[test]
    fn random_input_never_panics() {
        let mut x: u64 = 0x9e3779b97f4a7c15;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let alphabet: &[&str] = &[
            "{", "}", ".", "..", "[", "]", "*", "?(", ")", "@", "$", "'", "\"", "\\", "range ",
            "end", "==", "!=", "<", ">=", "-1", "0", "2", ":", "a", "b", "items", "~", "~1", "/",
            " ", "é", "\n",
        ];
        let doc = json!({"a": [1, {"b": "x", "a": [true, null]}], "b": {"a": {"b": 2.5}},
                         "items": [{"a": 1}, {"a": "1"}]});
        for _ in 0..20_000 {
            let n = (next() % 12) as usize;
            let t: String = (0..n)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect();
            if let Ok(tpl) = Template::parse(&t) {
                let _ = tpl.render(&doc);
            }
            let _ = crate::core::extract::pointer::lookup(&doc, &t);
        }
    }
}
