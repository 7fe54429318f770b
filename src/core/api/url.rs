//! Building request URLs: the API path checked, query values percent-encoded.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::core::error::{Error, Result};

/// Everything but RFC 3986 "unreserved" characters is encoded in query keys and values, so a
/// label selector like `app in (a,b)` or a field selector with `=` and `!` arrives intact.
const QUERY: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Check an API path (`/api/v1/namespaces/x/pods`): it must start with `/` and hold no
/// whitespace, control characters or fragment. A `?query` already in it is kept as given.
pub fn check_path(path: &str) -> Result<()> {
    if !path.starts_with('/') {
        return Err(Error::invalid(format!(
            "API path {path:?} must start with '/' (for example /api/v1/namespaces)"
        )));
    }
    if let Some(c) = path
        .chars()
        .find(|c| c.is_whitespace() || c.is_control() || *c == '#')
    {
        return Err(Error::invalid(format!(
            "API path {path:?} contains {c:?}, which cannot appear in a URL path"
        )));
    }
    Ok(())
}

/// `base` + `path` + the encoded `query`.
pub fn build_url(base: &str, path: &str, query: &[(String, String)]) -> Result<String> {
    check_path(path)?;
    let mut url = String::with_capacity(base.len() + path.len() + 16 * query.len());
    url.push_str(base);
    url.push_str(path);
    let mut sep = if path.contains('?') { '&' } else { '?' };
    for (k, v) in query {
        if k.is_empty() {
            return Err(Error::invalid("a query parameter has an empty name"));
        }
        url.push(sep);
        url.extend(utf8_percent_encode(k, QUERY));
        url.push('=');
        url.extend(utf8_percent_encode(v, QUERY));
        sep = '&';
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_selectors() {
        let q = vec![
            (
                "labelSelector".to_string(),
                "app in (a,b),tier!=db".to_string(),
            ),
            ("limit".to_string(), "5".to_string()),
        ];
        assert_eq!(
            build_url("https://h:1", "/api/v1/pods", &q).unwrap(),
            "https://h:1/api/v1/pods?labelSelector=app%20in%20%28a%2Cb%29%2Ctier%21%3Ddb&limit=5"
        );
        assert_eq!(
            build_url("http://h", "/x?watch=1", &q[1..]).unwrap(),
            "http://h/x?watch=1&limit=5"
        );
    }

    #[test]
    fn rejects_bad_paths() {
        assert!(
            check_path("api/v1")
                .unwrap_err()
                .to_string()
                .contains("must start with '/'")
        );
        assert!(check_path("/a b").is_err());
        assert!(check_path("/a\nb").is_err());
        assert!(check_path("/a#b").is_err());
    }
}
