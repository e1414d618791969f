//! Typed diagnostics: every problem the compiler reports is a [`Diagnostic`] with a stable
//! [`Code`], a primary span, secondary labels and a help line. Rendering lives in [`render`].

mod codes;
pub mod render;

pub use codes::Code;

use crate::source::Span;
use std::collections::{HashMap, HashSet};

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
pub fn did_you_mean<'a>(wrong: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    closest(wrong, candidates).map(|(_, c)| c)
}

/// The closest candidate and its distance: ties go to the smallest candidate, so the answer
/// does not depend on the candidates' order. Candidates whose length alone puts them too far
/// are skipped, and each distance stops once past the bound.
pub fn closest<'a>(wrong: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<(usize, &'a str)> {
    let typo = Typo::new(wrong);
    // One buffer for every candidate: an allocation per candidate dominated the time.
    let mut candidate_chars: Vec<char> = Vec::new();
    let mut best = None;
    for candidate in candidates {
        candidate_chars.clear();
        candidate_chars.extend(candidate.chars().flat_map(char::to_lowercase));
        typo.consider(candidate, &candidate_chars, &mut best);
    }
    best
}

/// A name not found, lower-cased, and the largest distance a suggestion for it may have.
struct Typo<'w> {
    wrong: &'w str,
    chars: Vec<char>,
    limit: usize,
}

impl<'w> Typo<'w> {
    fn new(wrong: &'w str) -> Self {
        Typo {
            wrong,
            chars: wrong.to_lowercase().chars().collect(),
            limit: (wrong.chars().count() / 3).max(1),
        }
    }

    /// Keeps `candidate` (lower-cased: `chars`) in `best` when it is closer.
    fn consider<'a>(&self, candidate: &'a str, chars: &[char], best: &mut Option<(usize, &'a str)>) {
        if candidate == self.wrong || chars.len().abs_diff(self.chars.len()) > self.limit {
            return;
        }
        if let Some(distance) = bounded_edit_distance(&self.chars, chars, self.limit) {
            if best.is_none_or(|b| (distance, candidate) < b) {
                *best = Some((distance, candidate));
            }
        }
    }
}

/// Names indexed for [`closest`] over many of them: with thousands of unknown names, each
/// compared with every name of a large module, suggestions were quadratic. A name within
/// distance `k` of the typo keeps one of `k + 1` disjoint pieces of the typo intact (each edit
/// breaks at most one), so only names containing a piece's first two letters (or its letter)
/// are compared; the answer is the one a comparison with every name gives.
#[derive(Debug, Default)]
pub struct NameIndex {
    names: Vec<(String, Vec<char>)>,
    by_pair: HashMap<(char, char), Vec<u32>>,
    by_letter: HashMap<char, Vec<u32>>,
    /// Names by length in lower-cased letters, for typos too short to split.
    by_length: Vec<Vec<u32>>,
}

impl NameIndex {
    pub fn new<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        let mut index = NameIndex::default();
        for name in names {
            let Ok(id) = u32::try_from(index.names.len()) else {
                break;
            };
            let chars: Vec<char> = name.chars().flat_map(char::to_lowercase).collect();
            let mut pairs: Vec<(char, char)> = chars.windows(2).map(|w| (w[0], w[1])).collect();
            pairs.sort_unstable();
            pairs.dedup();
            for pair in pairs {
                index.by_pair.entry(pair).or_default().push(id);
            }
            let mut letters = chars.clone();
            letters.sort_unstable();
            letters.dedup();
            for letter in letters {
                index.by_letter.entry(letter).or_default().push(id);
            }
            if index.by_length.len() <= chars.len() {
                index.by_length.resize_with(chars.len() + 1, Vec::new);
            }
            index.by_length[chars.len()].push(id);
            index.names.push((name.to_owned(), chars));
        }
        index
    }

    /// What [`closest`] over every indexed name gives.
    pub fn closest(&self, wrong: &str) -> Option<(usize, &str)> {
        let typo = Typo::new(wrong);
        let pieces = typo.limit + 1;
        let mut ids: Vec<u32> = Vec::new();
        if typo.chars.len() < pieces {
            let shortest = typo.chars.len().saturating_sub(typo.limit);
            let longest = typo.chars.len() + typo.limit;
            for ids_of_length in self.by_length.iter().take(longest + 1).skip(shortest) {
                ids.extend(ids_of_length);
            }
        } else {
            for piece in 0..pieces {
                let start = piece * typo.chars.len() / pieces;
                let end = (piece + 1) * typo.chars.len() / pieces;
                let found = match typo.chars.get(start..end) {
                    Some([one]) => self.by_letter.get(one),
                    Some([first, second, ..]) => self.by_pair.get(&(*first, *second)),
                    _ => None,
                };
                ids.extend(found.into_iter().flatten());
            }
        }
        ids.sort_unstable();
        ids.dedup();
        let mut best = None;
        for id in ids {
            if let Some((name, chars)) = self.names.get(id as usize) {
                typo.consider(name, chars, &mut best);
            }
        }
        best
    }
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

    /// The index finds what a comparison with every name finds.
    #[test]
    fn the_index_suggests_what_a_scan_does() {
        let names = [
            "a",
            "b",
            "ab",
            "ba",
            "abc",
            "train",
            "Train",
            "trian",
            "predict",
            "predicts",
            "c0",
            "c10",
            "c100",
            "model_v2",
            "MODEL_V3",
            "evaluate_split",
            "evaluate_splits",
            "x_y_z",
            "é",
            "ÉCOLE",
        ];
        let index = NameIndex::new(names);
        let typos = [
            "",
            "a",
            "z",
            "ab",
            "ac",
            "abd",
            "tran",
            "traim",
            "trains",
            "rpedict",
            "c1",
            "u10",
            "c1000",
            "model_v4",
            "Model_v2",
            "evalute_split",
            "evaluate_splot",
            "xyz",
            "e",
            "école",
            "train",
        ];
        for typo in typos {
            assert_eq!(index.closest(typo), closest(typo, names), "{typo}");
        }
    }

    proptest::proptest! {
        /// Over a small alphabet, where names share many letters and pairs.
        #[test]
        fn the_index_suggests_what_a_scan_does_for_random_names(
            names in proptest::collection::vec("[abAB_1]{0,9}", 0..40),
            typo in "[abAB_1]{0,12}",
        ) {
            let index = NameIndex::new(names.iter().map(String::as_str));
            proptest::prop_assert_eq!(index.closest(&typo), closest(&typo, names.iter().map(String::as_str)));
        }
    }
}
