//! The `rwfc` commands that compile nothing: `explain --list` and `completions`.

use rwfc::diagnostics::Code;
use std::process::{Command, Output};

fn rwfc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rwfc"))
        .args(args)
        .output()
        .expect("rwfc runs")
}

#[test]
fn explain_list_shows_every_code_with_its_title() {
    let output = rwfc(&["explain", "--list"]);
    assert!(output.status.success());
    let expected: String = Code::ALL
        .iter()
        .map(|code| format!("{}  {}\n", code.as_str(), code.title()))
        .collect();
    assert_eq!(String::from_utf8_lossy(&output.stdout), expected);
}

#[test]
fn explain_needs_a_code_or_list() {
    assert_eq!(rwfc(&["explain"]).status.code(), Some(2));
    assert_eq!(rwfc(&["explain", "--list", "E0201"]).status.code(), Some(2));
}

#[test]
fn completions_complete_every_subcommand_in_each_shell() {
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef rwfc"),
        ("fish", "complete -c rwfc"),
    ] {
        let output = rwfc(&["completions", shell]);
        assert!(output.status.success(), "{shell}");
        let script = String::from_utf8_lossy(&output.stdout);
        assert!(script.contains(marker), "{shell}: no `{marker}` in\n{script}");
        for subcommand in ["check", "build", "graph", "explain", "completions"] {
            assert!(script.contains(subcommand), "{shell}: `{subcommand}` is not completed");
        }
    }
    assert_eq!(rwfc(&["completions", "tcsh"]).status.code(), Some(2));
}
