//! Byte offsets to LSP positions and back. LSP counts characters in UTF-16 code units by
//! default, so an `é` is one unit and an emoji two, while each is two or four bytes.

use lsp_types::Position;

/// The start of each line of a text, for converting offsets in it.
pub struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    pub fn new(text: &'a str) -> Self {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        LineIndex { text, starts }
    }

    /// The position of byte `offset` (clamped to the text, and back to a character boundary).
    pub fn position(&self, offset: usize) -> Position {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.starts.partition_point(|&start| start <= offset) - 1;
        let start = self.starts[line];
        let character: usize = self.text[start..offset].chars().map(char::len_utf16).sum();
        Position::new(line as u32, character as u32)
    }

    /// The byte offset of `position`; a character past the end of its line means the line's end,
    /// a line past the last means the end of the text.
    pub fn offset(&self, position: Position) -> usize {
        let Some(&start) = self.starts.get(position.line as usize) else {
            return self.text.len();
        };
        let line = &self.text[start..];
        let line = &line[..line.find('\n').unwrap_or(line.len())];
        let mut units = 0;
        for (i, c) in line.char_indices() {
            if units >= position.character as usize {
                return start + i;
            }
            units += c.len_utf16();
        }
        start + line.len()
    }

    /// The range of bytes `start..end`.
    pub fn range(&self, start: usize, end: usize) -> lsp_types::Range {
        lsp_types::Range::new(self.position(start), self.position(end))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn characters_are_counted_in_utf16_units() {
        let text = "é😀x\nab";
        let index = LineIndex::new(text);
        // `x` is after 2 + 4 bytes, 1 + 2 UTF-16 units.
        assert_eq!(index.position(6), Position::new(0, 3));
        assert_eq!(index.offset(Position::new(0, 3)), 6);
        assert_eq!(index.position(8), Position::new(1, 0));
        assert_eq!(index.offset(Position::new(1, 9)), text.len());
        assert_eq!(index.offset(Position::new(7, 0)), text.len());
        // Inside the emoji: back to its start.
        assert_eq!(index.position(4), Position::new(0, 1));
    }
}
