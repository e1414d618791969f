//! YAML text of a JSON value: every RayJob, every workflow manifest and every `runtimeEnvYAML`.
//!
//! serde-saphyr writes it, and what it writes is read back unchanged by YAML 1.2 parsers and by
//! the YAML 1.1 ones that may read these files: go-yaml v2 (the Kubernetes API server, KubeRay)
//! and PyYAML (Ray). A string that either kind of parser would take for a bool, a number, a
//! null or a timestamp (`yes`, `on`, `y`, `0755`, `1_000`, `1:20`, `1e3`, `2024-01-01`, …) is
//! quoted; numbers, bools and null are written plain; keys keep their order.
//!
//! Two choices differ from serde-saphyr's defaults:
//! - A long single-line string stays on one line, instead of becoming a folded block (`>`)
//!   whose line breaks are not in the value.
//! - A multi-line string is a literal block (`|`) unless it holds a tab. libyaml and go-yaml v2
//!   reject a literal block whose first content line starts with a tab ("found a tab character
//!   where an indentation space is expected"), although YAML 1.2 allows it. serde-saphyr's
//!   option for block style holds for a whole document, so a document with such a string has all
//!   its multi-line strings double-quoted, with escapes.

use serde_json::Value as Json;

/// The YAML document of `value`, ending with a newline.
pub fn to_string(value: &Json) -> String {
    let options = if has_multiline_tab(value) {
        serde_saphyr::ser_options! { folded_wrap_chars: usize::MAX, prefer_block_scalars: false }
    } else {
        serde_saphyr::ser_options! { folded_wrap_chars: usize::MAX }
    };
    serde_saphyr::to_string_with_options(value, options).unwrap_or_default()
}

/// Whether a string value of `value` has both a tab and a line break.
fn has_multiline_tab(value: &Json) -> bool {
    match value {
        Json::String(s) => s.contains('\t') && s.contains('\n'),
        Json::Array(items) => items.iter().any(has_multiline_tab),
        Json::Object(map) => map.values().any(has_multiline_tab),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::to_string;
    use serde_json::{json, Value as Json};

    /// Strings that a YAML parser would read as something else, or not at all, if written plain.
    #[rustfmt::skip]
    const TRICKY: &[&str] = &[
        "yes", "no", "on", "off", "y", "n", "Y", "N", "Yes", "NO", "ON", "Off", "true", "False",
        "TRUE", "null", "Null", "NULL", "~", "", "1e3", "1E3", "1.5e+3", "0755", "08", "0o17",
        "0x1F", "0X1F", "0b101", ".5", "+1", "-1", "1.", "1_000", "1_", "_1", "0_8", ".inf",
        "-.Inf", "+.inf", ".NaN", ".nan", "1:20", "190:20:30", "1:20.5", "-1:20", "2024-01-01",
        "2001-12-14t21:59:43.10-05:00", "=", "<<", " x", "x ", " ", "- x", "-", ": x", ":", "a: b",
        "? x", "?", "#x", "x #y", "@x", "`x", "!x", "!!str x", "&x", "*x", "%x", "{x}", "[x]",
        "x,y", "|", ">", "|-", "'", "\"", "'x'", "it's", "say \"hi\"", "back\\slash", "---",
        "...", "--- x", "x\ny", "x\ny\n", "x\n", "\n", "\n\n", "\nx", "x\n\n", " x\ny", "x\n y",
        "x \ny", "a: b\nc: d\n", "- a\n- b\n", "# c\nx", "x\n---\ny", "x\r\ny", "x\ry", "\t",
        "a\tb", "\tx", "x\t", "\tx\ny", "\tx\n", "\n\tx", "\t\nx", "\t \nx", "x\n\ty", "é",
        "日本語", "naïve: x", "🚀", "\u{feff}x", "x\u{a0}", "\u{0}", "a\u{1}b", "\u{7}",
        "\u{1b}[31m", "\u{7f}", "\u{85}", "x\u{85}y", "x\u{2028}y", "x\u{2029}y", "\u{fffe}",
    ];

    /// Strings that YAML 1.1 (go-yaml v2, PyYAML) reads as a bool, number, null, timestamp,
    /// merge key or value key when plain, whatever YAML 1.2 makes of them.
    #[rustfmt::skip]
    const YAML_1_1_SCALARS: &[&str] = &[
        "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off",
        "OFF", "true", "True", "TRUE", "false", "False", "FALSE", "null", "Null", "NULL", "~",
        "0755", "08", "010", "0x1F", "0b101", "0o17", "1_000", "1_", "_1", "0_8", "1:20",
        "190:20:30", "1:20.5", "-1:20", "+1", ".5", "1.", "1e3", ".inf", "-.Inf", ".NaN",
        "2024-01-01", "2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43.10 -5", "=", "<<",
    ];

    /// The same string as a value, a key, list items, and values inside a list item and deeper.
    fn placements(s: &str) -> Vec<Json> {
        vec![
            json!({ "k": s }),
            json!({ s: 1 }),
            json!({ "l": [s, s] }),
            json!({ "l": [{ "k": s, "k2": s }] }),
            json!({ "a": { "b": [{ "c": [s], "d": { s: s } }] } }),
        ]
    }

    #[test]
    fn tricky_strings_read_back_as_the_same_strings() {
        for &s in TRICKY {
            for value in placements(s) {
                let text = to_string(&value);
                let back: Json =
                    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{s:?}: not valid YAML: {e}\n{text}"));
                assert_eq!(back, value, "{s:?} as\n{text}");
            }
        }
    }

    #[test]
    fn yaml_1_1_scalars_are_quoted_as_values_and_keys() {
        for &s in YAML_1_1_SCALARS {
            let text = to_string(&json!({ "k": s }));
            let written = text.strip_prefix("k: ").unwrap_or_else(|| panic!("{s:?}: {text}"));
            assert!(written.starts_with(['"', '\'']), "{s:?} is written plain: {text}");
            let text = to_string(&json!({ s: 1 }));
            assert!(text.starts_with(['"', '\'']), "key {s:?} is written plain: {text}");
        }
    }

    #[test]
    fn numbers_bools_and_null_stay_plain_and_typed() {
        let value = json!({
            "int": 1,
            "negative": -5,
            "max": u64::MAX,
            "min": i64::MIN,
            "float": 1.0,
            "fraction": 0.25,
            "small": 1e-7,
            "large": 1e300,
            "on": true,
            "off": false,
            "nothing": null,
            "list": [0, 2.5, true, null],
        });
        let text = to_string(&value);
        assert_eq!(
            text,
            "int: 1\nnegative: -5\nmax: 18446744073709551615\nmin: -9223372036854775808\n\
             float: 1.0\nfraction: 0.25\nsmall: 1.0e-7\nlarge: 1.0e+300\n\"on\": true\n\"off\": false\n\
             nothing: null\nlist:\n- 0\n- 2.5\n- true\n- null\n"
        );
        assert_eq!(serde_yaml::from_str::<Json>(&text).expect("YAML"), value);
    }

    #[test]
    fn keys_keep_their_order() {
        let value = json!({ "z": 1, "a": { "x": 2, "b": 3 }, "m": [{ "q": 4, "c": 5 }] });
        assert_eq!(to_string(&value), "z: 1\na:\n  x: 2\n  b: 3\nm:\n- q: 4\n  c: 5\n");
    }

    #[test]
    fn output_is_the_same_every_time() {
        let value = json!({ "a": TRICKY, "b": { "c": "x\ny\n", "d": [1.5, "on"] } });
        assert_eq!(to_string(&value), to_string(&value));
    }

    #[test]
    fn multi_line_strings_are_literal_blocks_and_long_lines_stay_whole() {
        let long = "python -m train --epochs 10".repeat(8);
        let text = to_string(&json!({ "script": "a\nb: c\n", "entrypoint": long }));
        assert_eq!(text, format!("script: |\n  a\n  b: c\nentrypoint: {long}\n"));
    }

    #[test]
    fn a_tab_in_a_multi_line_string_quotes_it() {
        let value = json!({ "a": "x\ny\n", "b": "\tx\ny" });
        let text = to_string(&value);
        assert_eq!(text, "a: \"x\\ny\\n\"\nb: \"\\tx\\ny\"\n");
        assert_eq!(serde_yaml::from_str::<Json>(&text).expect("YAML"), value);
    }
}
