use super::*;
use crate::ast::{BinaryOp, ExprKind, ItemKind};

fn parse_text(text: &str) -> (Option<ast::File>, Diagnostics) {
    let mut diagnostics = Diagnostics::new();
    let file = parse(FileId(0), text, &mut diagnostics);
    (file, diagnostics)
}

fn first_const(text: &str) -> ExprKind {
    let (file, diagnostics) = parse_text(text);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    match file.map(|f| f.items.into_iter().next().map(|i| i.kind)) {
        Some(Some(ItemKind::Const(c))) => c.value.kind,
        other => panic!("not a constant: {other:?}"),
    }
}

#[test]
fn reference_program_parses() {
    let (file, diagnostics) = parse_text(include_str!("../../examples/first_look.rwf"));
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    assert_eq!(file.map(|f| f.items.len()), Some(6));
}

#[test]
fn precedence_and_associativity() {
    let ExprKind::Binary(BinaryOp::Or, lhs, _) = first_const("const X = 1 + 2 * 3 == 7 || false") else {
        panic!("`||` binds loosest");
    };
    let ExprKind::Binary(BinaryOp::Eq, sum, _) = lhs.kind else {
        panic!("`==` below `||`");
    };
    assert!(matches!(sum.kind, ExprKind::Binary(BinaryOp::Add, _, _)));
    let ExprKind::Binary(BinaryOp::Sub, left, _) = first_const("const X = 10 - 2 - 3") else {
        panic!("left-associative");
    };
    assert!(matches!(left.kind, ExprKind::Binary(BinaryOp::Sub, _, _)));
}

#[test]
fn if_condition_is_not_a_refinement() {
    let kind = first_const("const X = if flag { 4 } else { 2 }");
    assert!(matches!(kind, ExprKind::If(..)), "{kind:?}");
    let kind = first_const("const X = base { replicas = 2 }");
    assert!(matches!(kind, ExprKind::Refine(..)), "{kind:?}");
}

#[test]
fn doc_comments_attach_to_items() {
    let (file, _) = parse_text("// not a doc\n/// Line one.\n/// Line two.\nconst X = 1\n");
    let doc = file.and_then(|f| f.items.into_iter().next()).and_then(|i| i.doc);
    assert_eq!(doc.as_deref(), Some("Line one.\nLine two."));
}

#[test]
fn syntax_errors_name_no_raw_rules() {
    let (_, diagnostics) = parse_text("task t( { }");
    let message = &diagnostics.iter().next().map(|d| d.message.clone()).unwrap_or_default();
    assert!(message.starts_with("syntax error: expected"), "{message}");
    assert!(!message.contains("Rule::") && !message.contains("_expr"), "{message}");
}

#[test]
fn deep_nesting_is_refused_without_overflow() {
    let text = format!("const X = {}1{}", "(".repeat(10_000), ")".repeat(10_000));
    let (file, diagnostics) = parse_text(&text);
    assert!(file.is_none());
    assert_eq!(diagnostics.iter().next().map(|d| d.code), Some(Code::E0601));
    let text = format!("const X = {}1", "-".repeat(10_000));
    let (_, diagnostics) = parse_text(&text);
    assert_eq!(diagnostics.iter().next().map(|d| d.code), Some(Code::E0601));
    let text = format!("const X = 1{}", " + 1".repeat(100_000));
    let (_, diagnostics) = parse_text(&text);
    assert_eq!(diagnostics.iter().next().map(|d| d.code), Some(Code::E0601));
}

/// A program of many items, with keywords inside strings, comments and blocks where the pre-pass
/// must not cut, several pieces long.
fn many_items(count: usize) -> String {
    let mut text = String::from("// task workflow const: not items\nimport \"std/gpu\"\n");
    for i in 0..count {
        text.push_str(&format!(
            "/// Task {i}: `task` in a doc comment.\ntask t{i}(n: int = {i}) {{\n  image = \"task workflow {{ ${{n}}\"\n  \
             /* cluster }} */ entrypoint = r\"import x\"\n  ray {{ head {{ requests {{ cpu = n * 2 + 1 }} }} }}\n}}\n\
             const c{i} = [1, (2 + {i}), {{ a = if true {{ 1 }} else {{ 2 }} }}]\n"
        ));
    }
    text
}

/// The file as one piece: what `parse` gives when it does not cut.
fn parse_whole(text: &str) -> ast::File {
    let root = RwfParser::parse(Rule::file, text)
        .ok()
        .and_then(|mut pairs| pairs.next())
        .expect("parses");
    let mut diagnostics = Diagnostics::new();
    let items = lower::Lowerer::new(FileId(0), text, 0, &mut diagnostics).items(root);
    ast::File {
        items,
        span: Span::new(FileId(0), 0, text.len()),
    }
}

#[test]
fn a_file_parsed_in_pieces_gives_the_tree_of_one_parse() {
    let text = many_items(1500);
    let item_starts = nesting::scan(FileId(0), &text).unwrap_or_default();
    assert_eq!(
        item_starts.len(),
        1 + 2 * 1500,
        "one start per import, task and constant"
    );
    assert!(
        pieces(text.len(), &item_starts, PIECE_BYTES).len() > 4,
        "the test needs several pieces"
    );
    let (file, diagnostics) = parse_text(&text);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    assert_eq!(file, Some(parse_whole(&text)));
}

#[test]
fn a_syntax_error_in_a_later_piece_is_reported_where_it_is() {
    let mut text = many_items(1500);
    let at = text.len() - 200;
    text.insert_str(at, " = = ");
    let (file, diagnostics) = parse_text(&text);
    assert!(file.is_none());
    let spans: Vec<Option<Span>> = diagnostics.iter().map(|d| d.span()).collect();
    assert_eq!(diagnostics.iter().count(), 1, "{diagnostics:?}");
    assert!(
        spans[0].is_some_and(|s| (at..at + 5).contains(&(s.start as usize))),
        "{spans:?} near {at}"
    );
}

/// Every program of the repository, valid or not, parsed with a cut before every item and as one
/// piece: the same tree and the same diagnostics.
#[test]
fn cutting_before_every_item_changes_nothing() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    let mut folders = vec![root.join("examples"), root.join("stdlib"), root.join("tests/ui")];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|e| e == "rwf") {
                files.push(path);
            }
        }
    }
    assert!(files.len() > 100, "found only {} programs", files.len());
    for path in files {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let run = |piece_bytes| {
            let mut diagnostics = Diagnostics::new();
            let file = parse_in_pieces(FileId(0), &text, piece_bytes, &mut diagnostics);
            (file, diagnostics.into_sorted())
        };
        assert_eq!(run(1), run(usize::MAX), "{}", path.display());
    }
}
