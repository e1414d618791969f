use super::format;

fn formatted(text: &str) -> String {
    match format(text) {
        Ok(out) => out,
        Err(diagnostics) => panic!("{text:?} does not parse: {:?}", diagnostics.into_iter().next()),
    }
}

#[test]
fn short_blocks_stay_on_one_line_and_long_ones_break() {
    let out = formatted("task t(){requests{cpu=1,mem=2Gi}\nlabels={a=\"x\"}}");
    assert_eq!(
        out,
        "task t() {\n  requests { cpu = 1, mem = 2Gi }\n  labels = { a = \"x\" }\n}\n"
    );
    let long = format!("const X = [{}]", ["\"abcdefghij\""; 10].join(","));
    let out = formatted(&long);
    assert!(out.starts_with("const X = [\n  \"abcdefghij\",\n"), "{out}");
    assert!(out.ends_with("\"abcdefghij\",\n]\n"), "{out}");
}

#[test]
fn parentheses_are_written_where_the_grouping_needs_them() {
    let out = formatted("const A = (1 + 2) * 3 - (4 - 5)\nconst B = -(1 + 2)\nconst C = (a { x = 1 }).y");
    assert_eq!(
        out,
        "const A = (1 + 2) * 3 - (4 - 5)\nconst B = -(1 + 2)\nconst C = (a { x = 1 }).y\n"
    );
}

#[test]
fn comments_in_strings_are_text() {
    let out = formatted("const A = \"http://x ${ \"//y\" }\" // real\n");
    assert_eq!(out, "const A = \"http://x ${ \"//y\" }\" // real\n");
}

#[test]
fn a_syntax_error_is_reported_not_formatted() {
    assert!(format("task t( {").is_err());
    assert_eq!(formatted(""), "");
}

#[test]
fn the_deepest_files_the_parser_accepts_format() {
    let chain = vec!["1"; 250].join(" + ");
    let nested = format!("{}1{}", "[".repeat(60), "]".repeat(60));
    let text = format!("const A = {chain}\nconst B = {nested}\n");
    let out = formatted(&text);
    assert_eq!(formatted(&out), out);
    // Operator chains stay on one line; lists too long for one break one element per line.
    assert!(out.contains(&format!("const A = {chain}\n")), "{out}");
    assert!(out.contains("const B = [\n  [\n    [\n"), "{out}");
}
