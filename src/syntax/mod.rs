//! Text to [`ast::File`]. The only module that knows about pest.
//!
//! Before pest runs, a cheap scan bounds the bracket nesting (pest's recursive descent would
//! otherwise overflow the stack on hostile input); while lowering, expression height is bounded
//! too, so every later recursive pass is safe.

mod lower;
mod nesting;

use crate::ast;
use crate::diagnostics::{Code, Diagnostic, Diagnostics};
use crate::source::{FileId, Span};
use pest::Parser as _;

/// Limits on one source file (language reference §10, E0601–E0604).
pub const MAX_FILE_BYTES: usize = 64 * 1024 * 1024;
pub const MAX_NESTING: usize = 64;
pub const MAX_EXPR_HEIGHT: usize = 256;
pub const MAX_STRING_BYTES: usize = 1024 * 1024;

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/rwf.pest"]
struct RwfParser;

/// Checks that `bytes` is UTF-8 within the size limit; the text, or `None` after reporting why not.
pub fn decode(file: FileId, bytes: &[u8], diagnostics: &mut Diagnostics) -> Option<String> {
    if bytes.len() > MAX_FILE_BYTES {
        diagnostics.push(
            Diagnostic::new(
                Code::E0602,
                Span::new(file, 0, 0),
                // The binary reads one byte past the limit, so the length says only "too many".
                format!("file is larger than the limit of {MAX_FILE_BYTES} bytes"),
                "this file",
            )
            .help("split the workflow into several files and import them"),
        );
        return None;
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => Some(text.to_owned()),
        Err(error) => {
            let at = error.valid_up_to();
            let len = error.error_len().unwrap_or(1);
            diagnostics.push(
                Diagnostic::new(
                    Code::E0001,
                    Span::new(file, at, at + len),
                    format!("file is not valid UTF-8 (byte offset {at})"),
                    "invalid byte sequence here",
                )
                .help("save the file as UTF-8"),
            );
            None
        }
    }
}

/// Parses the text of a `--set` value as one expression, its spans in `file` (which need not
/// be loaded); why not, when it does not parse or breaks a limit.
pub fn parse_value(file: FileId, text: &str) -> Result<ast::Expr, String> {
    nesting::scan(file, text).map_err(|problem| problem.message)?;
    let parsed = RwfParser::parse(Rule::value_text, text).map_err(|error| syntax_error(file, text, error).message)?;
    let mut found = Diagnostics::new();
    let expr = parsed
        .into_iter()
        .next()
        .and_then(|root| root.into_inner().next())
        .map(|expr| lower::Lowerer::new(file, text, 0, &mut found).expr(expr));
    match (found.into_iter().next(), expr) {
        (Some(problem), _) => Err(problem.message),
        (None, Some(expr)) => Ok(expr),
        (None, None) => Err("it is empty".to_owned()),
    }
}

/// The size of the pieces a file is parsed in: pest holds the token queue of a whole piece.
const PIECE_BYTES: usize = 64 * 1024;

/// Parses one file. A syntax error yields `None` (pest stops at the first one); problems found
/// while lowering a tree that did parse are reported and the file is still returned.
///
/// The file is parsed in pieces of whole top-level items, found by the pre-pass: pest's token
/// queue then stays small, and a file of more than one piece uses every core. Any piece that
/// fails makes the whole file be parsed at once, which gives the same error as a parser that never
/// cut it.
pub fn parse(file: FileId, text: &str, diagnostics: &mut Diagnostics) -> Option<ast::File> {
    parse_in_pieces(file, text, PIECE_BYTES, diagnostics)
}

/// [`parse`] with pieces of at least `piece_bytes`.
fn parse_in_pieces(file: FileId, text: &str, piece_bytes: usize, diagnostics: &mut Diagnostics) -> Option<ast::File> {
    let item_starts = match nesting::scan(file, text) {
        Ok(starts) => starts,
        Err(problem) => {
            diagnostics.push(problem);
            return None;
        }
    };
    let pieces = crate::parallel::map(
        &pieces(text.len(), &item_starts, piece_bytes),
        crate::parallel::available_threads(),
        |range| {
            let root = RwfParser::parse(Rule::file, text.get(range.clone())?).ok()?.next()?;
            let mut found = Diagnostics::new();
            let items = lower::Lowerer::new(file, text, range.start, &mut found).items(root);
            Some((items, found))
        },
    );
    let span = Span::new(file, 0, text.len());
    if pieces.iter().all(Option::is_some) {
        let mut items = Vec::new();
        for (piece_items, found) in pieces.into_iter().flatten() {
            items.extend(piece_items);
            diagnostics.extend(found);
        }
        return Some(ast::File { items, span });
    }
    match RwfParser::parse(Rule::file, text) {
        Ok(mut pairs) => {
            let root = pairs.next()?;
            let items = lower::Lowerer::new(file, text, 0, diagnostics).items(root);
            Some(ast::File { items, span })
        }
        Err(error) => {
            diagnostics.push(syntax_error(file, text, error));
            None
        }
    }
}

/// Byte ranges covering `len` bytes, each cut at an item start once it holds `piece_bytes`.
fn pieces(len: usize, item_starts: &[usize], piece_bytes: usize) -> Vec<std::ops::Range<usize>> {
    let mut pieces = Vec::new();
    let mut start = 0;
    for &cut in item_starts {
        if cut - start >= piece_bytes {
            pieces.push(start..cut);
            start = cut;
        }
    }
    pieces.push(start..len);
    pieces
}

fn syntax_error(file: FileId, text: &str, error: pest::error::Error<Rule>) -> Diagnostic {
    let (start, end) = match error.location {
        pest::error::InputLocation::Pos(p) => (p, p),
        pest::error::InputLocation::Span((s, e)) => (s, e),
    };
    let at_end = text.get(start..).is_some_and(|rest| rest.trim().is_empty());
    let help = syntax_help(text, start);
    // At the end of the file, point at the last token rather than past it.
    let start = if at_end {
        text.get(..start)
            .map_or(start, |before| before.trim_end().len().saturating_sub(1))
    } else {
        start
    };
    let end = if at_end { start } else { end.max(start) };
    // Point at the whole offending token, not an empty position.
    let end = if end > start {
        end
    } else {
        start + token_len(text.get(start..).unwrap_or(""))
    };
    let found = if at_end {
        "end of file".to_owned()
    } else {
        describe_found(text.get(start..end).unwrap_or(""))
    };
    if let Some(unclosed) = unclosed_block(text, start, at_end) {
        return Diagnostic::new(
            Code::E0001,
            Span::new(file, unclosed, unclosed + 1),
            "syntax error: this `{` is never closed",
            "opened here",
        )
        .label(
            Span::new(file, start, end),
            if at_end {
                "the file ends here"
            } else {
                "the next item starts here"
            },
        )
        .help("add the missing `}` before the next item");
    }
    let expected = match &error.variant {
        pest::error::ErrorVariant::ParsingError { positives, .. } => expected_list(positives),
        pest::error::ErrorVariant::CustomError { message } => message.clone(),
    };
    Diagnostic::new(
        Code::E0001,
        Span::new(file, start, end),
        format!("syntax error: expected {expected}, found {found}"),
        format!("expected {expected}"),
    )
    .help(help)
}

/// The `{` left open where the parser stopped, when it stopped at the start of a line that
/// begins an item (or at the end of the file): the usual sign of a forgotten `}`.
fn unclosed_block(text: &str, at: usize, at_end: bool) -> Option<usize> {
    let line_start = text.get(..at)?.rfind('\n').map_or(0, |i| i + 1);
    let starts_item = text.get(line_start..at)?.trim().is_empty()
        && ["import", "const", "cluster", "task", "workflow"]
            .iter()
            .any(|keyword| text.get(at..).is_some_and(|rest| rest.starts_with(keyword)));
    if !(starts_item || at_end) {
        return None;
    }
    let open = nesting::unclosed_at(text, at)?;
    (text.as_bytes().get(open) == Some(&b'{')).then_some(open)
}

fn syntax_help(text: &str, at: usize) -> String {
    let rest = text.get(at..).unwrap_or("");
    if rest.starts_with(':') {
        "rwf writes records and maps with `=` between key and value, not with `:`: `{ \"num-cpus\" = \"0\" }`".into()
    } else if rest.starts_with('$') || rest.starts_with("\\") {
        "inside a string, write `$$` for a literal `$` and use only the escapes \\\" \\\\ \\n \\t \\u{...}".into()
    } else if rest.trim().is_empty() {
        "the file ends too early: check for an unclosed `{`, `(`, `[` or string".into()
    } else {
        "see the language reference §2–§6 for the syntax".into()
    }
}

/// Length in bytes of the token starting the text: an identifier/number, or one character.
fn token_len(rest: &str) -> usize {
    let word = rest
        .char_indices()
        .find(|(_, c)| !(c.is_alphanumeric() || *c == '_'))
        .map_or(rest.len(), |(i, _)| i);
    if word > 0 {
        word
    } else {
        rest.chars().next().map_or(0, char::len_utf8)
    }
}

fn describe_found(token: &str) -> String {
    match token.chars().next() {
        None => "end of file".into(),
        Some('\n') | Some('\r') => "end of line".into(),
        Some(_) => format!("`{}`", token.escape_debug()),
    }
}

fn expected_list(rules: &[Rule]) -> String {
    let mut names: Vec<&str> = rules.iter().map(|r| rule_name(*r)).collect();
    names.sort_unstable();
    names.dedup();
    match names.as_slice() {
        [] => "something else".into(),
        [one] => (*one).into(),
        [init @ .., last] => format!("{} or {}", init.join(", "), last),
    }
}

/// Readable names for the rules pest reports as expected; never the raw `Rule::` names.
fn rule_name(rule: Rule) -> &'static str {
    match rule {
        Rule::EOI => "end of file",
        Rule::file => "a file",
        Rule::value_text => "a value",
        Rule::import_item | Rule::kw_import => "`import`",
        Rule::const_item | Rule::kw_const => "`const`",
        Rule::cluster_item | Rule::kw_cluster => "`cluster`",
        Rule::task_item | Rule::kw_task => "`task`",
        Rule::workflow_item | Rule::kw_workflow => "`workflow`",
        Rule::item => "an item (`import`, `const`, `cluster`, `task` or `workflow`)",
        Rule::statement => "a statement (`let`, `return` or a setting)",
        Rule::primary => "an expression",
        Rule::digits => "a number",
        Rule::params => "a parameter list `(...)`",
        Rule::param => "a parameter `name: type`",
        Rule::output_decl => "`->` and an output type",
        Rule::record_type | Rule::record_field_type => "a record type `(name: type, ...)`",
        Rule::type_expr | Rule::generic_type => "a type",
        Rule::block | Rule::record => "`{`",
        Rule::field | Rule::field_key => "a field `name = value`",
        Rule::workflow_body => "a workflow body `{ ... }`",
        Rule::let_stmt | Rule::kw_let => "`let`",
        Rule::with_clause | Rule::kw_with => "`with`",
        Rule::after_clause | Rule::kw_after => "`after`",
        Rule::fan_out | Rule::kw_for => "`for NAME in LIST { ... }`",
        Rule::kw_in => "`in`",
        Rule::return_stmt | Rule::kw_return => "`return`",
        Rule::expr
        | Rule::operand
        | Rule::cond_expr
        | Rule::cond_operand
        | Rule::paren
        | Rule::list
        | Rule::if_expr
        | Rule::name
        | Rule::path_expr => "an expression",
        Rule::binary_op | Rule::op_or | Rule::op_and | Rule::op_cmp | Rule::op_add | Rule::op_mul => "an operator",
        Rule::op_unary => "`-` or `!`",
        Rule::branch => "`{ expression }`",
        Rule::call_args | Rule::arg => "arguments `(...)`",
        Rule::field_access => "`.`",
        Rule::number => "a number",
        Rule::string | Rule::plain_string | Rule::raw_string => "a string",
        Rule::text | Rule::plain_text | Rule::raw_text | Rule::text_char | Rule::plain_char | Rule::raw_char => {
            "string text"
        }
        Rule::escape => "an escape sequence",
        Rule::dollar_dollar | Rule::lone_dollar => "`$$`",
        Rule::interpolation => "`${...}`",
        Rule::ident | Rule::keyword => "a name",
        Rule::kw_as => "`as`",
        Rule::kw_if => "`if`",
        Rule::kw_else => "`else`",
        Rule::kw_true | Rule::kw_false => "`true` or `false`",
        Rule::kw_none => "`none`",
        Rule::WHITESPACE | Rule::block_comment | Rule::line_comment | Rule::not_newline => "whitespace",
    }
}

#[cfg(test)]
mod tests;
