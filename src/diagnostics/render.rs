//! Turning diagnostics into text: miette's graphical report for people, one line each for
//! scripts, and one JSON object per line for editors (language reference §10). Text from the
//! sources (snippets, names, messages quoting values) is printed with control characters
//! escaped (`source::Printable`).

use super::{Diagnostic, Label, Severity};
use crate::source::{printable_text, Printable, SourceFile, SourceMap};
use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError, MietteSpanContents, SourceCode, SourceSpan,
    SpanContents,
};
use std::fmt;

/// A diagnostic bound to its sources, as miette wants it. Labels in other files than the
/// primary one become related reports, each with its own source.
struct Report<'a> {
    code: String,
    message: String,
    severity: miette::Severity,
    help: Option<String>,
    source: Option<FileSource<'a>>,
    labels: Vec<LabeledSpan>,
    related: Vec<Report<'a>>,
}

/// A file as miette reads it. miette's own `SourceCode` for text scans from the start of the
/// file for every label, which made many diagnostics in a large file quadratic; this one starts
/// at the line `context_lines_before` lines above the span, found in the index of line starts,
/// and gives what the scan would give.
struct FileSource<'a> {
    name: String,
    printable: &'a Printable,
}

impl SourceCode for FileSource<'_> {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        // miette's scan panics on some spans past the end.
        if span.offset() + span.len() > self.printable.text.len() {
            return Err(MietteError::OutOfBounds);
        }
        let starts = &self.printable.line_starts;
        // miette's scan takes an empty span to end one byte before it starts.
        let from = span.offset().min((span.offset() + span.len()).saturating_sub(1));
        let line = starts.partition_point(|&start| start <= from).saturating_sub(1);
        let first = line.saturating_sub(context_lines_before);
        let start = starts.get(first).copied().unwrap_or(0).min(from);
        let rest = self.printable.text.as_bytes().get(start..).unwrap_or_default();
        let relative = SourceSpan::new((span.offset() - start).into(), span.len());
        let found = rest.read_span(&relative, context_lines_before, context_lines_after)?;
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            found.data(),
            SourceSpan::new((found.span().offset() + start).into(), found.span().len()),
            found.line() + first,
            found.column(),
            found.line_count() + first,
        )))
    }
}

impl fmt::Debug for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Report<'_> {}

impl miette::Diagnostic for Report<'_> {
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

fn file_source(file: &SourceFile) -> FileSource<'_> {
    FileSource {
        name: printable_text(file.name(), true).into_owned(),
        printable: file.printable(),
    }
}

/// The label with its span in the printed text of its file.
fn labeled(label: &Label, primary: bool, sources: &SourceMap) -> LabeledSpan {
    let (start, end) = (label.span.start as usize, label.span.end as usize);
    let span = match sources.file(label.span.file).map(SourceFile::printable) {
        Some(printable) => SourceSpan::from(printable.offset(start)..printable.offset(end)),
        None => SourceSpan::from(start..end),
    };
    let text = (!label.message.is_empty()).then(|| printable_text(&label.message, true).into_owned());
    if primary {
        LabeledSpan::new_primary_with_span(text, span)
    } else {
        LabeledSpan::new_with_span(text, span)
    }
}

fn report<'a>(diagnostic: &Diagnostic, sources: &'a SourceMap) -> Report<'a> {
    let primary_file = diagnostic.primary.as_ref().map(|l| l.span.file);
    let mut labels: Vec<LabeledSpan> = diagnostic.primary.iter().map(|l| labeled(l, true, sources)).collect();
    let mut related = Vec::new();
    for label in &diagnostic.labels {
        if Some(label.span.file) == primary_file && !far_apart(diagnostic, label, sources) {
            labels.push(labeled(label, false, sources));
        } else {
            related.push(Report {
                code: String::new(),
                message: "note: related location".into(),
                severity: miette::Severity::Advice,
                help: None,
                source: sources.file(label.span.file).map(file_source),
                labels: vec![labeled(label, true, sources)],
                related: Vec::new(),
            });
        }
    }
    Report {
        code: diagnostic.code.as_str().to_owned(),
        message: printable_text(&diagnostic.message, true).into_owned(),
        severity: match diagnostic.severity() {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        },
        help: diagnostic.help.as_deref().map(|h| printable_text(h, true).into_owned()),
        source: primary_file.and_then(|f| sources.file(f)).map(file_source),
        labels,
        related,
    }
}

/// Lines between a label and the primary span past which the label gets a snippet of its own:
/// one snippet would print every line between them (a task's body and a call far below it).
const NEAR_LINES: usize = 6;

fn far_apart(diagnostic: &Diagnostic, label: &Label, sources: &SourceMap) -> bool {
    let (Some(primary), Some(file)) = (&diagnostic.primary, sources.file(label.span.file)) else {
        return false;
    };
    let line = |offset: u32| file.line_column(offset as usize).0;
    let (a, b) = (line(primary.span.start), line(label.span.start));
    a.abs_diff(b) > NEAR_LINES
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
            Some(format!("{}:{line}:{column}: ", printable_text(file.name(), false)))
        })
        .unwrap_or_default();
    format!(
        "{location}{}[{}]: {}",
        diagnostic.severity().as_str(),
        diagnostic.code.as_str(),
        printable_text(&diagnostic.message, false)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Origin;

    /// The lines found through the index are those miette's scan from the start finds.
    #[test]
    fn reads_spans_as_miettes_scan_does() {
        let text = "a\n\nbc = 1\r\n  d\r\n\r\ne f\ng\n";
        let mut sources = SourceMap::new();
        let id = sources.add(Origin::User("x.rwf".into()), text);
        let file = sources.file(id).map(file_source);
        let Some(file) = file else { panic!("the file was added") };
        for start in 0..=text.len() {
            for end in start..=text.len() {
                let span = SourceSpan::from(start..end);
                for context in 0..3 {
                    let ours = file.read_span(&span, context, context).ok();
                    let scanned = text.read_span(&span, context, context).ok();
                    let parts =
                        |c: &dyn SpanContents<'_>| (c.data().to_vec(), *c.span(), c.line(), c.column(), c.line_count());
                    assert_eq!(
                        ours.as_deref().map(parts),
                        scanned.as_deref().map(parts),
                        "{start}..{end}, {context} lines"
                    );
                }
            }
        }
        let past_the_end = SourceSpan::from(text.len() + 1..text.len() + 1);
        assert!(file.read_span(&past_the_end, 0, 0).is_err());
    }
}
