//! Entrypoint text and the shell (language reference §6.4): quoting values for a POSIX shell,
//! the words that survive the Ray CLI unquoted, quoted regions of literal text, and shell
//! syntax that would run in the submitter pod.

/// A value that reaches the job intact through the submitter's `bash` and Ray's
/// `list2cmdline` without quoting: non-empty, only these characters.
pub fn is_safe_word(value: &str) -> bool {
    !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_./:=@%+,-".contains(&b))
}

/// One POSIX shell word whose value is `value`: left bare when it is a safe word, otherwise
/// single-quoted with each `'` written as `'\''`.
pub fn posix_quote(value: &str) -> String {
    if is_safe_word(value) {
        return value.to_owned();
    }
    format!("'{}'", value.replace('\'', r"'\''"))
}

/// For text split around interpolations (`texts[i]` precedes interpolation `i`), whether each
/// interpolation falls inside a quoted region as the shell would read the text.
pub fn interpolations_in_quotes<'a>(texts: impl IntoIterator<Item = &'a str>) -> Vec<bool> {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        Bare,
        Single,
        Double,
    }
    let mut state = State::Bare;
    let mut escaped = false;
    let mut inside = Vec::new();
    for text in texts {
        for c in text.chars() {
            if escaped {
                escaped = false;
                continue;
            }
            state = match (state, c) {
                (State::Bare | State::Double, '\\') => {
                    escaped = true;
                    state
                }
                (State::Bare, '\'') => State::Single,
                (State::Single, '\'') => State::Bare,
                (State::Bare, '"') => State::Double,
                (State::Double, '"') => State::Bare,
                (s, _) => s,
            };
        }
        escaped = false;
        inside.push(state != State::Bare);
    }
    inside
}

/// Shell syntax the submitter's `bash` would run in the submitter pod (W0502).
pub fn shell_syntax(text: &str) -> Option<&'static str> {
    [";", "&", "|", "`", "$("].into_iter().find(|s| text.contains(s))
}

/// A Ray version at least `major.minor`; `None` when the text is not a version.
pub fn version_at_least(version: &str, major: u32, minor: u32) -> Option<bool> {
    let mut parts = version.split('.');
    let found_major: u32 = parts.next()?.parse().ok()?;
    let found_minor: u32 = parts.next().map_or(Some(0), |m| m.parse().ok())?;
    Some((found_major, found_minor) >= (major, minor))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_only_what_needs_it() {
        assert_eq!(posix_quote("s3://bucket/key"), "s3://bucket/key");
        assert_eq!(posix_quote("it's"), r"'it'\''s'");
        assert_eq!(posix_quote(""), "''");
    }

    #[test]
    fn finds_interpolations_inside_quotes() {
        assert_eq!(
            interpolations_in_quotes(["run '", "' --x ", ""]),
            vec![true, false, false]
        );
        assert_eq!(interpolations_in_quotes(["echo \"a ", "\""]), vec![true, false]);
        assert_eq!(interpolations_in_quotes(["echo \\'", ""]), vec![false, false]);
    }

    #[test]
    fn compares_ray_versions() {
        assert_eq!(version_at_least("2.60.0", 2, 60), Some(true));
        assert_eq!(version_at_least("2.9.3", 2, 60), Some(false));
        assert_eq!(version_at_least("3", 2, 60), Some(true));
        assert_eq!(version_at_least("latest", 2, 60), None);
    }
}
