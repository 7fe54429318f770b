//! Subject, issuer and validity of a certificate, for `incluster info`.
//!
//! A deliberately tiny DER reader: it walks only the first fields of `TBSCertificate`, so the
//! library does not carry a full X.509 parser for one line of output. Every read is bounds-checked
//! and returns `None` on malformed input.

/// What `info` shows about a CA certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertInfo {
    /// The subject as `CN=...,O=...`.
    pub subject: String,
    /// The issuer, in the same form.
    pub issuer: String,
    /// Start of validity, RFC 3339 (`2026-01-02T03:04:05Z`).
    pub not_before: String,
    /// End of validity, RFC 3339.
    pub not_after: String,
}

/// One DER element: tag and content.
fn element(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (first as usize, rest)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n].iter().fold(0usize, |a, &b| (a << 8) | b as usize);
        (len, &rest[n..])
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

fn expect(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (t, content, rest) = element(input)?;
    (t == tag).then_some((content, rest))
}

fn attr_name(oid: &[u8]) -> Option<&'static str> {
    Some(match oid {
        [0x55, 0x04, 0x03] => "CN",
        [0x55, 0x04, 0x06] => "C",
        [0x55, 0x04, 0x07] => "L",
        [0x55, 0x04, 0x08] => "ST",
        [0x55, 0x04, 0x0a] => "O",
        [0x55, 0x04, 0x0b] => "OU",
        _ => return None,
    })
}

fn name(mut rdns: &[u8]) -> Option<String> {
    let mut parts = Vec::new();
    while !rdns.is_empty() {
        let (set, rest) = expect(rdns, 0x31)?;
        rdns = rest;
        let (atv, _) = expect(set, 0x30)?;
        let (oid, value) = expect(atv, 0x06)?;
        let (_, text, _) = element(value)?;
        if let Some(n) = attr_name(oid) {
            parts.push(format!("{n}={}", String::from_utf8_lossy(text)));
        }
    }
    Some(parts.join(","))
}

fn time(input: &[u8]) -> Option<(String, &[u8])> {
    let (tag, t, rest) = element(input)?;
    let t = std::str::from_utf8(t).ok()?;
    if !t
        .bytes()
        .take(t.len().saturating_sub(1))
        .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let full = match (tag, t.len()) {
        // UTCTime: YYMMDDHHMMSSZ, years 50-99 are 19xx (RFC 5280).
        (0x17, 13) => {
            let century = if &t[..2] >= "50" { "19" } else { "20" };
            format!("{century}{t}")
        }
        (0x18, 15) => t.to_owned(),
        _ => return None,
    };
    let f = &full;
    Some((
        format!(
            "{}-{}-{}T{}:{}:{}Z",
            &f[0..4],
            &f[4..6],
            &f[6..8],
            &f[8..10],
            &f[10..12],
            &f[12..14]
        ),
        rest,
    ))
}

/// Read subject, issuer and validity from a DER certificate; `None` if it is malformed.
pub fn cert_info(der: &[u8]) -> Option<CertInfo> {
    let (cert, _) = expect(der, 0x30)?;
    let (tbs, _) = expect(cert, 0x30)?;
    let mut rest = tbs;
    if let Some((0xa0, _, r)) = element(rest) {
        rest = r; // explicit version
    }
    let (_, r) = expect(rest, 0x02)?; // serial
    let (_, r) = expect(r, 0x30)?; // signature algorithm
    let (issuer, r) = expect(r, 0x30)?;
    let (validity, r) = expect(r, 0x30)?;
    let (subject, _) = expect(r, 0x30)?;
    let (not_before, v) = time(validity)?;
    let (not_after, _) = time(v)?;
    Some(CertInfo {
        subject: name(subject)?,
        issuer: name(issuer)?,
        not_before,
        not_after,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_input_is_none_not_a_panic() {
        for bad in [
            &b""[..],
            &[0x30],
            &[0x30, 0x85, 1, 1, 1, 1, 1],
            &[0x30, 0x05, 0x30],
        ] {
            assert!(cert_info(bad).is_none());
        }
    }
}
