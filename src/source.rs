//! Source files, byte spans and line/column lookup.

use std::borrow::Cow;
use std::sync::{Arc, OnceLock};

/// Index of a file in a [`SourceMap`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct FileId(pub u32);

/// A byte range in one file. Offsets are `u32`: files over 4 GiB are refused long before (E0602).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Span {
    pub file: FileId,
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(file: FileId, start: usize, end: usize) -> Span {
        Span {
            file,
            start: clamp_u32(start),
            end: clamp_u32(end),
        }
    }

    /// The smallest span covering both (they must be in the same file).
    pub fn to(self, other: Span) -> Span {
        Span {
            file: self.file,
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    /// Whether `other` lies within this span.
    pub fn contains(self, other: Span) -> bool {
        self.file == other.file && self.start <= other.start && other.end <= self.end
    }

    pub fn len(self) -> usize {
        (self.end - self.start) as usize
    }

    pub fn is_empty(self) -> bool {
        self.start == self.end
    }
}

fn clamp_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Where a file came from: the user's tree or the embedded standard library.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Origin {
    /// Path relative to the compilation root, with `/` separators.
    User(String),
    /// `std/NAME.rwf`.
    Stdlib(String),
}

#[derive(Debug)]
pub struct SourceFile {
    pub origin: Origin,
    pub text: Arc<str>,
    line_starts: Vec<usize>,
    printable: OnceLock<Printable>,
}

impl SourceFile {
    /// The name shown in diagnostics and written into manifests.
    pub fn name(&self) -> &str {
        match &self.origin {
            Origin::User(path) | Origin::Stdlib(path) => path,
        }
    }

    pub fn is_stdlib(&self) -> bool {
        matches!(self.origin, Origin::Stdlib(_))
    }

    /// 1-based line and column (in Unicode scalars) of a byte offset.
    pub fn line_column(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|&start| start <= offset);
        let line_start = self.line_starts.get(line.saturating_sub(1)).copied().unwrap_or(0);
        let column = self
            .text
            .get(line_start..offset)
            .map_or(offset - line_start, |prefix| prefix.chars().count());
        (line.max(1), column + 1)
    }

    /// The text as diagnostics print it, made on the first diagnostic in this file.
    pub fn printable(&self) -> &Printable {
        self.printable
            .get_or_init(|| Printable::new(&self.text, &self.line_starts))
    }
}

/// A file's text as a terminal may be shown it: control characters (ESC, NUL, a lone `\r`, ...)
/// and bidirectional overrides escaped as `\u{1b}`, since a terminal would obey them; tabs, `\n`
/// and `\r\n` kept. Source offsets map to offsets in it through the escapes before them.
#[derive(Debug)]
pub struct Printable {
    pub text: Arc<str>,
    /// Where each line starts in `text`.
    pub line_starts: Vec<usize>,
    /// For each escaped character: its source offset and the bytes escapes added up to its end.
    escapes: Vec<(usize, usize)>,
}

impl Printable {
    fn new(text: &Arc<str>, line_starts: &[usize]) -> Printable {
        let mut escapes = Vec::new();
        let mut printed = String::new();
        let mut copied = 0;
        let mut added = 0;
        for (offset, c) in text.char_indices() {
            if !needs_escape(c, text.as_bytes().get(offset + 1).copied()) {
                continue;
            }
            printed.push_str(&text[copied..offset]);
            let escape = escaped(c);
            added += escape.len() - c.len_utf8();
            printed.push_str(&escape);
            copied = offset + c.len_utf8();
            escapes.push((offset, added));
        }
        if escapes.is_empty() {
            return Printable {
                text: text.clone(),
                line_starts: line_starts.to_vec(),
                escapes,
            };
        }
        printed.push_str(&text[copied..]);
        let mut printable = Printable {
            text: Arc::from(printed),
            line_starts: Vec::new(),
            escapes,
        };
        printable.line_starts = line_starts.iter().map(|&start| printable.offset(start)).collect();
        printable
    }

    /// Where the source offset `offset` is in the printed text.
    pub fn offset(&self, offset: usize) -> usize {
        let before = self.escapes.partition_point(|&(at, _)| at < offset);
        offset + before.checked_sub(1).map_or(0, |i| self.escapes[i].1)
    }
}

/// Whether `c` (followed by the byte `next`) would act on a terminal rather than show.
fn needs_escape(c: char, next: Option<u8>) -> bool {
    match c {
        '\t' | '\n' => false,
        '\r' => next != Some(b'\n'),
        '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => true,
        _ => c.is_control(),
    }
}

fn escaped(c: char) -> String {
    format!("\\u{{{:x}}}", u32::from(c))
}

/// `text` with what would act on a terminal escaped as in [`Printable`]; `\n` too unless
/// `keep_newlines`, for output of one line per diagnostic.
pub fn printable_text(text: &str, keep_newlines: bool) -> Cow<'_, str> {
    let escape = |c: char| (c == '\n' && !keep_newlines) || (c != '\n' && needs_escape(c, None));
    if !text.chars().any(escape) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .map(|c| if escape(c) { escaped(c) } else { c.to_string() })
            .collect(),
    )
}

/// Every file of one compilation: user files and the standard library files they import.
#[derive(Debug, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    pub fn new() -> SourceMap {
        SourceMap::default()
    }

    pub fn add(&mut self, origin: Origin, text: impl Into<Arc<str>>) -> FileId {
        let text: Arc<str> = text.into();
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        let id = FileId(clamp_u32(self.files.len()));
        self.files.push(SourceFile {
            origin,
            text,
            line_starts,
            printable: OnceLock::new(),
        });
        id
    }

    /// The id the next added file will get.
    pub fn next_id(&self) -> FileId {
        FileId(clamp_u32(self.files.len()))
    }

    pub fn file(&self, id: FileId) -> Option<&SourceFile> {
        self.files.get(id.0 as usize)
    }

    pub fn find(&self, origin: &Origin) -> Option<FileId> {
        self.files
            .iter()
            .position(|f| &f.origin == origin)
            .map(|i| FileId(clamp_u32(i)))
    }

    pub fn files(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files.iter().enumerate().map(|(i, f)| (FileId(clamp_u32(i)), f))
    }

    /// The source text a span covers, or "" for a span outside its file.
    pub fn snippet(&self, span: Span) -> &str {
        self.file(span.file)
            .and_then(|f| f.text.get(span.start as usize..span.end as usize))
            .unwrap_or("")
    }
}
