//! Source files, byte spans and line/column lookup.

use std::sync::Arc;

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
