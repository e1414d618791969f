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
