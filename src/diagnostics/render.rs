//! Turning diagnostics into text: miette's graphical report for people, one line each for
//! scripts, and one JSON object per line for editors (language reference §10).

use super::{Diagnostic, Label, Severity};
use crate::source::{SourceFile, SourceMap};
use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceSpan};
use std::fmt;
use std::sync::Arc;

/// A diagnostic bound to its sources, as miette wants it. Labels in other files than the
/// primary one become related reports, each with its own source.
struct Report {
    code: String,
    message: String,
    severity: miette::Severity,
    help: Option<String>,
    source: Option<NamedSource<Arc<str>>>,
    labels: Vec<LabeledSpan>,
    related: Vec<Report>,
}

impl fmt::Debug for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Report {}

impl miette::Diagnostic for Report {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        (!self.code.is_empty()).then(|| Box::new(&self.code) as Box<dyn fmt::Display>)
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity)
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help.as_ref().map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source.as_ref().map(|s| s as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        (!self.labels.is_empty())
            .then(|| Box::new(self.labels.iter().cloned()) as Box<dyn Iterator<Item = LabeledSpan>>)
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        (!self.related.is_empty())
            .then(|| Box::new(self.related.iter().map(|r| r as &dyn miette::Diagnostic)) as Box<dyn Iterator<Item = _>>)
    }
}

fn named_source(file: &SourceFile) -> NamedSource<Arc<str>> {
    NamedSource::new(file.name(), file.text.clone())
}

fn labeled(label: &Label, primary: bool) -> LabeledSpan {
    let span = SourceSpan::from(label.span.start as usize..label.span.end as usize);
    let text = (!label.message.is_empty()).then(|| label.message.clone());
    if primary {
        LabeledSpan::new_primary_with_span(text, span)
    } else {
        LabeledSpan::new_with_span(text, span)
    }
}

fn report(diagnostic: &Diagnostic, sources: &SourceMap) -> Report {
    let primary_file = diagnostic.primary.as_ref().map(|l| l.span.file);
    let mut labels: Vec<LabeledSpan> = diagnostic.primary.iter().map(|l| labeled(l, true)).collect();
    let mut related = Vec::new();
    for label in &diagnostic.labels {
        if Some(label.span.file) == primary_file {
            labels.push(labeled(label, false));
        } else {
            related.push(Report {
                code: String::new(),
                message: "note: related location".into(),
                severity: miette::Severity::Advice,
                help: None,
                source: sources.file(label.span.file).map(named_source),
                labels: vec![labeled(label, true)],
                related: Vec::new(),
            });
        }
    }
    Report {
        code: diagnostic.code.as_str().to_owned(),
        message: diagnostic.message.clone(),
        severity: match diagnostic.severity() {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        },
        help: diagnostic.help.clone(),
        source: primary_file.and_then(|f| sources.file(f)).map(named_source),
        labels,
        related,
    }
}

/// miette's graphical report, in colour or plain ASCII-safe text.
pub fn human(diagnostic: &Diagnostic, sources: &SourceMap, color: bool) -> String {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_links(false)
        .with_width(100)
        .with_context_lines(1);
    let mut out = String::new();
    if handler.render_report(&mut out, &report(diagnostic, sources)).is_err() {
        out = short(diagnostic, sources);
    }
    out
}

/// `file:line:column: severity[CODE]: message`.
pub fn short(diagnostic: &Diagnostic, sources: &SourceMap) -> String {
    let location = diagnostic
        .primary
        .as_ref()
        .and_then(|l| {
            let file = sources.file(l.span.file)?;
            let (line, column) = file.line_column(l.span.start as usize);
            Some(format!("{}:{line}:{column}: ", file.name()))
        })
        .unwrap_or_default();
    format!(
        "{location}{}[{}]: {}",
        diagnostic.severity().as_str(),
        diagnostic.code.as_str(),
        diagnostic.message
    )
}

/// One JSON object, with byte offsets and 1-based lines and columns for every label.
pub fn json(diagnostic: &Diagnostic, sources: &SourceMap) -> String {
    let file = diagnostic
        .primary
        .as_ref()
        .and_then(|l| sources.file(l.span.file))
        .map(|f| f.name().to_owned());
    let label_json = |label: &Label, primary: bool| {
        let source = sources.file(label.span.file);
        let (line, column) = source.map_or((0, 0), |f| f.line_column(label.span.start as usize));
        let (end_line, end_column) = source.map_or((0, 0), |f| f.line_column(label.span.end as usize));
        serde_json::json!({
            "primary": primary,
            "file": source.map(|f| f.name()),
            "message": label.message,
            "offset": label.span.start,
            "length": label.span.len(),
            "line": line,
            "column": column,
            "end_line": end_line,
            "end_column": end_column,
        })
    };
    let labels: Vec<serde_json::Value> = diagnostic
        .primary
        .iter()
        .map(|l| label_json(l, true))
        .chain(diagnostic.labels.iter().map(|l| label_json(l, false)))
        .collect();
    serde_json::json!({
        "file": file,
        "code": diagnostic.code.as_str(),
        "severity": diagnostic.severity().as_str(),
        "message": diagnostic.message,
        "help": diagnostic.help,
        "labels": labels,
    })
    .to_string()
}

/// A usage or I/O problem, which has no code or source, as one JSON line of the same shape.
pub fn json_error(message: &str) -> String {
    serde_json::json!({
        "file": null,
        "code": null,
        "severity": "error",
        "message": message,
        "help": null,
        "labels": [],
    })
    .to_string()
}
