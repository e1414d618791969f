//! Kubernetes names: normalising rwf names to DNS-1035, shortening generated ones, and
//! validating user-given ones (language reference §9, mapping "Field mapping").

use sha2::{Digest, Sha256};

/// The longest RayJob name KubeRay accepts (it derives longer names from it).
pub const MAX_RAYJOB_NAME: usize = 47;
/// The longest label value Kubernetes accepts.
pub const MAX_LABEL_VALUE: usize = 63;

/// Lower case, `_` → `-`, runs of `-` collapsed, leading and trailing `-` trimmed.
pub fn normalise(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        let c = if c == '_' { '-' } else { c.to_ascii_lowercase() };
        if c == '-' && (out.is_empty() || out.ends_with('-')) {
            continue;
        }
        out.push(c);
    }
    while out.ends_with('-') {
        out.pop();
    }
    out
}

/// Hex digits of the full name's SHA-256 at the end of a shortened name.
pub const SHORTENED_DIGITS: usize = 8;

/// A generated name cut to `max` characters: its first `max - 9`, `-`, and the first 8 hex
/// digits of the SHA-256 of the whole name, so distinct long names stay distinct.
pub fn shorten(name: &str, max: usize) -> String {
    if name.len() <= max {
        return name.to_owned();
    }
    let digest = sha256_hex(name.as_bytes());
    let hex = digest.get(..SHORTENED_DIGITS).unwrap_or(&digest);
    let keep = max.saturating_sub(hex.len() + 1);
    let head = name.get(..keep).unwrap_or(name);
    format!("{head}-{hex}")
}

/// SHA-256 in hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// A DNS-1123 label: at most 63 lower-case alphanumerics or `-`, alphanumeric at both ends.
pub fn is_dns1123_label(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

/// A DNS-1035 label: a DNS-1123 label that starts with a letter.
pub fn is_dns1035_label(name: &str) -> bool {
    is_dns1123_label(name) && name.starts_with(|c: char| c.is_ascii_lowercase())
}

/// A DNS-1123 subdomain: dot-separated labels, at most 253 characters.
pub fn is_dns1123_subdomain(name: &str) -> bool {
    name.len() <= 253 && name.split('.').all(is_dns1123_label)
}

/// A label or annotation key: an optional DNS-1123 subdomain prefix and `/`, then a name of
/// at most 63 alphanumerics, `-`, `_` or `.`, alphanumeric at both ends.
pub fn is_qualified_name(key: &str) -> bool {
    let (prefix, name) = match key.split_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    prefix.is_none_or(is_dns1123_subdomain) && is_label_name(name) && !name.is_empty()
}

/// A label value: empty, or at most 63 alphanumerics, `-`, `_` or `.`, alphanumeric at both
/// ends.
pub fn is_label_value(value: &str) -> bool {
    value.is_empty() || is_label_name(value)
}

/// An environment variable name as Kubernetes validates it (`IsEnvVarName`):
/// `[-._a-zA-Z][-._a-zA-Z0-9]*`.
pub fn is_env_var_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphabetic() || matches!(c, '-' | '.' | '_'))
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
}

/// A port name (`IsValidPortName`, IANA_SVC_NAME): at most 15 lower-case letters, digits and
/// `-`, with at least one letter, no `-` at either end and no `--`.
pub fn is_port_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 15
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && name.bytes().any(|b| b.is_ascii_lowercase())
        && !name.starts_with('-')
        && !name.ends_with('-')
        && !name.contains("--")
}

/// Whether a container may name the resource `name` (Kubernetes' `validateContainerResourceName`):
/// a qualified name; one with a domain that is not `kubernetes.io` is an extended resource, whose
/// name must also not start with `requests.` (the quota prefix).
pub fn is_container_resource_name(name: &str) -> bool {
    if !is_qualified_name(name) {
        return false;
    }
    if !name.contains('/') {
        return matches!(name, "cpu" | "memory" | "ephemeral-storage") || name.starts_with("hugepages-");
    }
    is_native_resource(name) || (!name.starts_with("requests.") && is_qualified_name(&format!("requests.{name}")))
}

/// A resource Kubernetes defines itself: no domain, or one in `kubernetes.io`.
fn is_native_resource(name: &str) -> bool {
    !name.contains('/') || name.contains("kubernetes.io/")
}

/// Whether Kubernetes requires whole numbers of the resource `name` (`IsIntegerResourceName`):
/// every extended resource, such as `nvidia.com/gpu`.
pub fn is_integer_resource(name: &str) -> bool {
    !is_native_resource(name)
}

fn is_label_name(name: &str) -> bool {
    name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_to_dns_1035() {
        assert_eq!(normalise("Train__Model_"), "train-model");
        assert_eq!(normalise("_a-_b"), "a-b");
    }

    #[test]
    fn long_names_keep_a_stable_hash() {
        let long = "a".repeat(60);
        let short = shorten(&long, MAX_RAYJOB_NAME);
        assert_eq!(short.len(), MAX_RAYJOB_NAME);
        assert_eq!(short, shorten(&long, MAX_RAYJOB_NAME));
        assert_ne!(short, shorten(&"a".repeat(61), MAX_RAYJOB_NAME));
        assert_eq!(shorten("short", MAX_RAYJOB_NAME), "short");
    }

    #[test]
    fn validates_kubernetes_names() {
        assert!(is_dns1123_label("gpu-workers"));
        assert!(!is_dns1123_label("GPU"));
        assert!(!is_dns1035_label("1abc"));
        assert!(is_qualified_name("app.kubernetes.io/name"));
        assert!(!is_qualified_name("bad key"));
        assert!(is_label_value(""));
        assert!(!is_label_value("-x"));
    }

    #[test]
    fn validates_env_port_and_resource_names() {
        for good in ["PATH", "_x", "-a.b", "my.var-1"] {
            assert!(is_env_var_name(good), "{good}");
        }
        for bad in ["", "A=B", "1ABC", "a b", "é"] {
            assert!(!is_env_var_name(bad), "{bad}");
        }
        for good in ["http", "metrics-2", "a1"] {
            assert!(is_port_name(good), "{good}");
        }
        for bad in ["", "80", "Http", "-a", "a-", "a--b", "sixteen-letters1"] {
            assert!(!is_port_name(bad), "{bad}");
        }
        for good in [
            "cpu",
            "hugepages-2Mi",
            "nvidia.com/gpu",
            "kubernetes.io/x",
            "amd.com/gpu",
        ] {
            assert!(is_container_resource_name(good), "{good}");
        }
        for bad in ["gpu", "bad key!/x", "a/b/c", "requests.acme.com/x", "acme.com/", "/x"] {
            assert!(!is_container_resource_name(bad), "{bad}");
        }
        assert!(is_integer_resource("nvidia.com/gpu"));
        assert!(!is_integer_resource("cpu"));
        assert!(!is_integer_resource("kubernetes.io/x"));
    }
}
