//! Typed diagnostics: every problem the compiler reports is a [`Diagnostic`] with a stable
//! [`Code`], a primary span, secondary labels and a help line. Rendering lives in [`render`].

mod codes;
pub mod render;

pub use codes::Code;

use crate::source::Span;
use std::collections::HashSet;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Diagnostic {
    pub code: Code,
    pub message: String,
    /// `None` only for problems with command-line flags, which have no source.
    pub primary: Option<Label>,
    pub labels: Vec<Label>,
    pub help: Option<String>,
}

impl Diagnostic {
    /// A diagnostic pointing at `span`, with `label` under the offending text.
    pub fn new(code: Code, span: Span, message: impl Into<String>, label: impl Into<String>) -> Self {
        Diagnostic {
            code,
            message: message.into(),
            primary: Some(Label {
                span,
                message: label.into(),
            }),
            labels: Vec::new(),
            help: None,
        }
    }

    /// A diagnostic about the command line rather than a source file.
    pub fn without_span(code: Code, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            message: message.into(),
            primary: None,
            labels: Vec::new(),
            help: None,
        }
    }

    pub fn label(mut self, span: Span, message: impl Into<String>) -> Self {
        self.labels.push(Label {
            span,
            message: message.into(),
        });
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Adds "did you mean `x`?" to the help when a close candidate exists.
    pub fn suggest<'a>(self, wrong: &str, candidates: impl IntoIterator<Item = &'a str>) -> Self {
        match did_you_mean(wrong, candidates) {
            Some(best) => self.help(format!("did you mean `{best}`?")),
            None => self,
        }
    }

    pub fn severity(&self) -> Severity {
        self.code.severity()
    }

    pub fn span(&self) -> Option<Span> {
        self.primary.as_ref().map(|l| l.span)
    }
}

/// The closest candidate by edit distance, if it is close enough to be a plausible typo.
/// Candidates whose length alone puts them too far are skipped, and each distance stops once
/// past the bound: with thousands of unknown names and candidates this ran for a minute.
pub fn did_you_mean<'a>(wrong: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let wrong_chars: Vec<char> = wrong.to_lowercase().chars().collect();
    let limit = (wrong.chars().count() / 3).max(1);
    let mut best: Option<(usize, &'a str)> = None;
    // One buffer for every candidate: an allocation per candidate dominated the time.
    let mut candidate_chars: Vec<char> = Vec::new();
    for candidate in candidates {
        if candidate == wrong {
            continue;
        }
        candidate_chars.clear();
        candidate_chars.extend(candidate.chars().flat_map(char::to_lowercase));
        if candidate_chars.len().abs_diff(wrong_chars.len()) > limit {
            continue;
        }
        let Some(distance) = bounded_edit_distance(&wrong_chars, &candidate_chars, limit) else {
            continue;
        };
        if best.is_none_or(|b| (distance, candidate) < b) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, c)| c)
}

/// The edit distance of `a` and `b`, or `None` once it is sure to be more than `limit`.
fn bounded_edit_distance(a: &[char], b: &[char], limit: usize) -> Option<usize> {
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = if ca == cb {
                diagonal
            } else {
                1 + diagonal.min(above).min(row[j])
            };
            diagonal = above;
        }
        if row.iter().min().is_some_and(|&m| m > limit) {
            return None;
        }
    }
    row.last().copied().filter(|&d| d <= limit)
}

/// The diagnostics of a compilation, in the order found, each problem once: a constant checked
/// at each of its uses, or a task's field emitted for each of its calls, reports one diagnostic.
/// A problem is its code, message, primary label and help; the first report keeps its labels
/// (such as the call it was found in).
#[derive(Debug, Default)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
    seen: HashSet<(Code, String, Option<Label>, Option<String>)>,
}

impl Diagnostics {
    pub fn new() -> Self {
        Diagnostics::default()
    }

    pub fn push(&mut self, diagnostic: Diagnostic) {
        let problem = (
            diagnostic.code,
            diagnostic.message.clone(),
            diagnostic.primary.clone(),
            diagnostic.help.clone(),
        );
        if self.seen.insert(problem) {
            self.items.push(diagnostic);
        }
    }

    pub fn extend(&mut self, diagnostics: impl IntoIterator<Item = Diagnostic>) {
        for d in diagnostics {
            self.push(d);
        }
    }

    pub fn has_errors(&self) -> bool {
        self.items.iter().any(|d| d.severity() == Severity::Error)
    }

    pub fn error_count(&self) -> usize {
        self.items.iter().filter(|d| d.severity() == Severity::Error).count()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Sorted by file and position so output does not depend on the order stages ran in.
    pub fn into_sorted(self) -> Vec<Diagnostic> {
        let mut items = self.items;
        items.sort_by_key(|d| d.span().map(|s| (s.file, s.start, s.end)));
        items
    }
}

/// In the order found: appending another stage's or thread's diagnostics keeps their order.
impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;

    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_problem_is_reported_once_with_its_first_labels() {
        let at = |start| Span::new(crate::source::FileId(0), start, start + 1);
        let problem = |call| Diagnostic::new(Code::E0505, at(1), "bad", "here").label(at(call), "in the call");
        let mut diagnostics = Diagnostics::new();
        diagnostics.extend([
            problem(5),
            problem(9),
            Diagnostic::new(Code::E0505, at(2), "bad", "here"),
        ]);
        let found: Vec<_> = diagnostics.into_iter().collect();
        assert_eq!(
            found,
            vec![problem(5), Diagnostic::new(Code::E0505, at(2), "bad", "here")]
        );
    }

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(did_you_mean("replcas", ["replicas", "image"]), Some("replicas"));
        assert_eq!(did_you_mean("zzz", ["replicas", "image"]), None);
    }
}
