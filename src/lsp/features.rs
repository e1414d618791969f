//! Answers that need only the text of one document: formatting, its symbols, and hover and
//! go to definition for the names it declares (items, parameters, `let`s).

use super::LineIndex;
use crate::ast::{self, ItemKind, Stmt};
use crate::diagnostics::Diagnostics;
use crate::format::FILE;
use lsp_types::{DocumentSymbolResponse, GotoDefinitionResponse, Hover, Position, SymbolKind, TextEdit, Uri};

/// One edit replacing the whole text with its formatted layout; none when it is already
/// formatted or does not parse (the diagnostics say why).
pub fn formatting(text: &str) -> Vec<TextEdit> {
    match crate::format::format(text) {
        Ok(formatted) if formatted != text => {
            let index = LineIndex::new(text);
            vec![TextEdit::new(index.range(0, text.len()), formatted)]
        }
        _ => Vec::new(),
    }
}

fn parse(text: &str) -> Option<ast::File> {
    crate::syntax::parse(FILE, text, &mut Diagnostics::new())
}

#[allow(deprecated)] // `DocumentSymbol::deprecated` must be given, though it is deprecated.
fn symbol(
    index: &LineIndex,
    name: &ast::Ident,
    kind: SymbolKind,
    span: crate::source::Span,
    children: Vec<lsp_types::DocumentSymbol>,
) -> lsp_types::DocumentSymbol {
    lsp_types::DocumentSymbol {
        name: name.name.clone(),
        detail: None,
        kind,
        tags: None,
        deprecated: None,
        range: index.range(span.start as usize, span.end.max(name.span.end) as usize),
        selection_range: index.range(name.span.start as usize, name.span.end as usize),
        children: (!children.is_empty()).then_some(children),
    }
}

/// The items of the document, with the parameters and `let`s of tasks and workflows.
pub fn symbols(text: &str) -> DocumentSymbolResponse {
    let index = LineIndex::new(text);
    let Some(file) = parse(text) else {
        return DocumentSymbolResponse::Nested(Vec::new());
    };
    let symbols = file
        .items
        .iter()
        .filter_map(|item| {
            let name = item.name()?;
            let params = |params: &[ast::Param]| -> Vec<_> {
                params
                    .iter()
                    .map(|p| symbol(&index, &p.name, SymbolKind::VARIABLE, p.span, Vec::new()))
                    .collect()
            };
            let (kind, children) = match &item.kind {
                ItemKind::Import(_) => (SymbolKind::MODULE, Vec::new()),
                ItemKind::Const(_) => (SymbolKind::CONSTANT, Vec::new()),
                ItemKind::Cluster(_) => (SymbolKind::OBJECT, Vec::new()),
                ItemKind::Task(t) => (SymbolKind::FUNCTION, params(&t.params)),
                ItemKind::Workflow(w) => {
                    let mut children = params(&w.params);
                    children.extend(w.body.iter().filter_map(|s| match s {
                        Stmt::Let(l) => Some(symbol(&index, &l.name, SymbolKind::VARIABLE, l.span, Vec::new())),
                        _ => None,
                    }));
                    (SymbolKind::FUNCTION, children)
                }
            };
            Some(symbol(&index, name, kind, item.span, children))
        })
        .collect();
    DocumentSymbolResponse::Nested(symbols)
}

/// A name the document declares: where, and what hover shows of it.
struct Declaration<'a> {
    name: &'a ast::Ident,
    /// The declaration as written (a task's or workflow's signature without its body).
    code: String,
    doc: Option<&'a str>,
}

/// The declaration of the name under `offset`: a parameter or `let` of the item the cursor is
/// in, else an item of the file.
fn declaration<'a>(text: &str, file: &'a ast::File, offset: usize) -> Option<Declaration<'a>> {
    let word = word_at(text, offset)?;
    let slice = |span: crate::source::Span| text.get(span.start as usize..span.end as usize).unwrap_or_default();
    let local = file
        .items
        .iter()
        .find(|item| item.span.start as usize <= offset && offset <= item.span.end as usize);
    if let Some(item) = local {
        let (params, body): (&[ast::Param], &[Stmt]) = match &item.kind {
            ItemKind::Task(t) => (&t.params, &[]),
            ItemKind::Workflow(w) => (&w.params, &w.body),
            _ => (&[], &[]),
        };
        if let Some(p) = params.iter().find(|p| p.name.name == word) {
            return Some(Declaration {
                name: &p.name,
                code: slice(p.span).trim_end().trim_end_matches(',').to_owned(),
                doc: None,
            });
        }
        let mut lets = body.iter().filter_map(|s| match s {
            Stmt::Let(l) if l.name.name == word => Some(l),
            _ => None,
        });
        if let Some(l) = lets.next_back() {
            let code = match call_output(text, file, l) {
                Some(ty) => format!("let {}: {ty}", l.name.name),
                None => slice(l.span).lines().next().unwrap_or_default().to_owned(),
            };
            return Some(Declaration {
                name: &l.name,
                code,
                doc: None,
            });
        }
    }
    item_declaration(text, file, word)
}

/// The type a `let` binds when it calls a task or workflow of the file: its output type as
/// written, in a `list[...]` for a fan-out (§3.6).
fn call_output(text: &str, file: &ast::File, l: &ast::Let) -> Option<String> {
    let ast::ExprKind::Call(callee, _) = &l.value.kind else {
        return None;
    };
    let ast::ExprKind::Name(name) = &callee.kind else {
        return None;
    };
    let output = file.items.iter().find_map(|item| match &item.kind {
        ItemKind::Task(t) if t.name.name == name.name => t.output.as_ref(),
        ItemKind::Workflow(w) if w.name.name == name.name => w.output.as_ref(),
        _ => None,
    })?;
    let span = match output {
        ast::OutputDecl::Single(ty) => ty.span(),
        ast::OutputDecl::Record(_, span) => *span,
    };
    let ty = text.get(span.start as usize..span.end as usize)?.trim_end();
    Some(if l.fan_out.is_some() {
        format!("list[{ty}]")
    } else {
        ty.to_owned()
    })
}

/// The item of `file` named `word`.
fn item_declaration<'a>(text: &str, file: &'a ast::File, word: &str) -> Option<Declaration<'a>> {
    let slice = |span: crate::source::Span| text.get(span.start as usize..span.end as usize).unwrap_or_default();
    let item = file
        .items
        .iter()
        .find(|item| item.name().is_some_and(|n| n.name == word))?;
    let code = match &item.kind {
        ItemKind::Task(ast::Task { body, .. }) | ItemKind::Cluster(ast::Cluster { body, .. }) => text
            .get(item.span.start as usize..body.span.start as usize)
            .unwrap_or_default()
            .trim_end()
            .to_owned(),
        ItemKind::Workflow(w) => text
            .get(item.span.start as usize..w.body_span.start as usize)
            .unwrap_or_default()
            .trim_end()
            .to_owned(),
        _ => slice(item.span).trim_end().to_owned(),
    };
    Some(Declaration {
        name: item.name()?,
        code,
        doc: item.doc.as_deref(),
    })
}

/// The identifier the byte `offset` is in or just after.
fn word_at(text: &str, offset: usize) -> Option<&str> {
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let offset = offset.min(text.len());
    let before = text.get(..offset)?;
    let start = before.rfind(|c: char| !is_word(c)).map_or(0, |i| i + 1);
    let end = text
        .get(offset..)?
        .find(|c: char| !is_word(c))
        .map_or(text.len(), |i| offset + i);
    text.get(start..end).filter(|w| !w.is_empty())
}

/// A module a document imports: its file (none for the standard library) and its text.
pub struct Module {
    pub path: Option<std::path::PathBuf>,
    pub text: String,
}

/// For `module.name` under the cursor: the module (found by `resolve` from its name in the
/// document) and `name`.
fn qualified<'t>(text: &'t str, offset: usize, resolve: &dyn Fn(&str) -> Option<Module>) -> Option<(Module, &'t str)> {
    let word = word_at(text, offset)?;
    let start = text
        .get(..offset)?
        .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .map_or(0, |i| i + 1);
    let before = text.get(..start)?.strip_suffix('.')?;
    let module = word_at(before, before.len())?;
    Some((resolve(module)?, word))
}

/// The configuration field under the cursor with its type, or the declaration of the name
/// under it (in this document or a module it imports), as written, with its doc comment.
pub fn hover(text: &str, position: Position, resolve: &dyn Fn(&str) -> Option<Module>) -> Option<Hover> {
    let file = parse(text)?;
    let offset = LineIndex::new(text).offset(position);
    let field = super::complete::in_schema(&file, offset).and_then(|found| found.schema.field(&found.field?.key.name));
    let declared = |found: Declaration| {
        let mut value = format!("```rwf\n{}\n```", found.code);
        if let Some(doc) = found.doc {
            value.push_str(&format!("\n\n{doc}"));
        }
        value
    };
    let value = match (field, qualified(text, offset, resolve)) {
        (Some(spec), _) => format!("```rwf\n{}\n```", super::complete::describe(spec)),
        (None, Some((module, name))) => {
            let module_file = parse(&module.text)?;
            declared(item_declaration(&module.text, &module_file, name)?)
        }
        (None, None) => declared(declaration(text, &file, offset)?),
    };
    Some(Hover {
        contents: lsp_types::HoverContents::Markup(lsp_types::MarkupContent {
            kind: lsp_types::MarkupKind::Markdown,
            value,
        }),
        range: None,
    })
}

/// Where the name under the cursor is declared: in the document, or in a file it imports.
pub fn definition(
    text: &str,
    position: Position,
    uri: Uri,
    resolve: &dyn Fn(&str) -> Option<Module>,
) -> Option<GotoDefinitionResponse> {
    let file = parse(text)?;
    let index = LineIndex::new(text);
    let offset = index.offset(position);
    if let Some((module, name)) = qualified(text, offset, resolve) {
        let module_file = parse(&module.text)?;
        let found = item_declaration(&module.text, &module_file, name)?;
        let module_index = LineIndex::new(&module.text);
        let range = module_index.range(found.name.span.start as usize, found.name.span.end as usize);
        let uri = super::path_uri(module.path.as_deref()?)?;
        return Some(GotoDefinitionResponse::Scalar(lsp_types::Location::new(uri, range)));
    }
    let found = declaration(text, &file, offset)?;
    let range = index.range(found.name.span.start as usize, found.name.span.end as usize);
    Some(GotoDefinitionResponse::Scalar(lsp_types::Location::new(uri, range)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hover_text(text: &str, line: u32, character: u32) -> Option<String> {
        let hover = hover(text, Position::new(line, character), &|_| None)?;
        match hover.contents {
            lsp_types::HoverContents::Markup(markup) => Some(markup.value),
            _ => None,
        }
    }

    #[test]
    fn a_fan_out_binds_a_list_of_the_call_output() {
        let text =
            "task t(n: int) -> float { image = \"i\" }\nworkflow w() {\n  let s = for x in [1] { t(n = x) }\n}\n";
        assert_eq!(
            hover_text(text, 2, 6).as_deref(),
            Some("```rwf\nlet s: list[float]\n```")
        );
        // Past the end of a line, or in no name: nothing.
        assert_eq!(hover_text(text, 1, 99), None);
        assert_eq!(hover_text(text, 99, 0), None);
    }
}
