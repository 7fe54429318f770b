//! What to run and where: the exec and attach options and their query parameters.

use crate::core::error::{Error, Result};

/// A command to run in a container (`kubectl exec`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecOptions {
    /// The Pod's name.
    pub pod: String,
    /// The container (the Pod's only or default container when `None`).
    pub container: Option<String>,
    /// The namespace (the client's when `None`).
    pub namespace: Option<String>,
    /// The command and its arguments (not run through a shell).
    pub command: Vec<String>,
    /// Whether the command gets a stdin to read from.
    pub stdin: bool,
    /// Whether to allocate a terminal (stderr then arrives merged into stdout).
    pub tty: bool,
}

/// Attaching to a container's main process (`kubectl attach`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttachOptions {
    /// The Pod's name.
    pub pod: String,
    /// The container (the Pod's only or default container when `None`).
    pub container: Option<String>,
    /// The namespace (the client's when `None`).
    pub namespace: Option<String>,
    /// Whether to send stdin to the process (it must have been started with stdin open).
    pub stdin: bool,
    /// Whether the process has a terminal.
    pub tty: bool,
}

/// Check a Pod, container or namespace name: a DNS label or subdomain, so it can go into a
/// path unescaped and a typo is reported here, naming the field.
pub fn check_name(what: &str, name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 253
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "{what} {name:?} is not a valid name (lower-case letters, digits, '-' and '.')"
        )))
    }
}

fn base(
    pod: &str,
    container: Option<&str>,
    namespace: Option<&str>,
    default_ns: &str,
    sub: &str,
) -> Result<(String, Vec<(String, String)>)> {
    check_name("pod", pod)?;
    let ns = namespace.unwrap_or(default_ns);
    check_name("namespace", ns)?;
    let mut query = Vec::new();
    if let Some(c) = container {
        check_name("container", c)?;
        query.push(("container".to_owned(), c.to_owned()));
    }
    Ok((format!("/api/v1/namespaces/{ns}/pods/{pod}/{sub}"), query))
}

fn flags(query: &mut Vec<(String, String)>, stdin: bool, tty: bool) {
    let b = |v: bool| if v { "true" } else { "false" }.to_owned();
    query.push(("stdin".into(), b(stdin)));
    query.push(("stdout".into(), b(true)));
    // With a terminal the kubelet merges stderr into stdout and refuses a separate stream.
    query.push(("stderr".into(), b(!tty)));
    query.push(("tty".into(), b(tty)));
}

impl ExecOptions {
    /// A command in a Pod's default container, without stdin or tty.
    pub fn new(pod: &str, command: &[&str]) -> Self {
        ExecOptions {
            pod: pod.to_owned(),
            command: command.iter().map(|s| (*s).to_owned()).collect(),
            ..Default::default()
        }
    }

    /// The request path and query, after checking every field.
    pub fn path_and_query(&self, default_ns: &str) -> Result<(String, Vec<(String, String)>)> {
        if self.command.is_empty() {
            return Err(Error::invalid("exec needs a command to run"));
        }
        let (path, mut query) = base(
            &self.pod,
            self.container.as_deref(),
            self.namespace.as_deref(),
            default_ns,
            "exec",
        )?;
        for c in &self.command {
            query.push(("command".into(), c.clone()));
        }
        flags(&mut query, self.stdin, self.tty);
        Ok((path, query))
    }
}

impl AttachOptions {
    /// The request path and query, after checking every field.
    pub fn path_and_query(&self, default_ns: &str) -> Result<(String, Vec<(String, String)>)> {
        let (path, mut query) = base(
            &self.pod,
            self.container.as_deref(),
            self.namespace.as_deref(),
            default_ns,
            "attach",
        )?;
        flags(&mut query, self.stdin, self.tty);
        Ok((path, query))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_carries_each_argument_and_no_stderr_with_a_tty() {
        let mut o = ExecOptions::new("web-0", &["sh", "-c", "echo a b"]);
        o.tty = true;
        let (path, q) = o.path_and_query("ns1").unwrap();
        assert_eq!(path, "/api/v1/namespaces/ns1/pods/web-0/exec");
        let cmds: Vec<_> = q
            .iter()
            .filter(|(k, _)| k == "command")
            .map(|(_, v)| v)
            .collect();
        assert_eq!(cmds, ["sh", "-c", "echo a b"]);
        assert!(q.contains(&("stderr".into(), "false".into())));
    }

    #[test]
    fn bad_names_and_empty_commands_are_refused_naming_the_field() {
        let e = ExecOptions::new("a/b", &["true"])
            .path_and_query("d")
            .unwrap_err();
        assert!(e.to_string().contains("pod \"a/b\""), "{e}");
        let e = ExecOptions::new("p", &[]).path_and_query("d").unwrap_err();
        assert!(e.to_string().contains("needs a command"), "{e}");
        let mut o = ExecOptions::new("p", &["true"]);
        o.container = Some("C".into());
        assert!(
            o.path_and_query("d")
                .unwrap_err()
                .to_string()
                .contains("container")
        );
    }
}
