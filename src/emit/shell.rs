//! Entrypoint text and the shell (language reference §6.4): quoting values for a POSIX shell,
//! the words that survive the Ray CLI unquoted, where an interpolation lands when the literal
//! text is read as the shells that run it read it, and shell syntax that would run in the
//! submitter pod.

/// A value that reaches the job intact through the submitter's `bash` and Ray's
/// `list2cmdline` without quoting: non-empty, only these characters.
pub fn is_safe_word(value: &str) -> bool {
    !value.is_empty() && value.bytes().all(is_safe_byte)
}

fn is_safe_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"_./:=@%+,-".contains(&b)
}

/// One POSIX shell word whose value is `value`: left bare when it is a safe word, otherwise
/// single-quoted with each `'` written as `'\''`.
pub fn posix_quote(value: &str) -> String {
    if is_safe_word(value) {
        return value.to_owned();
    }
    format!("'{}'", value.replace('\'', r"'\''"))
}

/// Literal entrypoint text with the places where values are interpolated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece<'a> {
    Text(&'a str),
    Hole,
}

/// A shell construct that keeps an interpolated value from landing as a plain word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Construct {
    SingleQuotes,
    DoubleQuotes,
    AnsiCQuotes,
    Backslash,
    Dollar,
    Heredoc,
    Comment,
    CommandSubstitution,
    Backticks,
    Arithmetic,
    ParameterExpansion,
    BraceExpansion,
    Glob,
    Tilde,
    /// Text the reader does not follow; everything after it is refused.
    NotUnderstood(&'static str),
}

impl Construct {
    /// Where the value is, as the end of "this value is interpolated ...".
    pub fn place(self) -> String {
        match self {
            Construct::SingleQuotes => "inside single quotes".into(),
            Construct::DoubleQuotes => "inside double quotes".into(),
            Construct::AnsiCQuotes => "inside ANSI-C quotes (`$'…'`)".into(),
            Construct::Backslash => "right after a backslash, which escapes rwfc's quoting".into(),
            Construct::Dollar => "right after a `$`, which would turn it into an expansion".into(),
            Construct::Heredoc => "inside a heredoc".into(),
            Construct::Comment => "inside a shell comment".into(),
            Construct::CommandSubstitution => "inside a command substitution (`$(…)`, `<(…)` or `>(…)`)".into(),
            Construct::Backticks => "inside backticks".into(),
            Construct::Arithmetic => "inside an arithmetic expression (`$((…))` or `((…))`)".into(),
            Construct::ParameterExpansion => "inside a parameter expansion (`${…}`)".into(),
            Construct::BraceExpansion => "in a word with braces, which bash may expand into several words".into(),
            Construct::Glob => "in a word with `*`, `?` or `[`, which the shell may replace by file names".into(),
            Construct::Tilde => "in a word with `~`, which the shell may replace by a home directory".into(),
            Construct::NotUnderstood(what) => format!("after {what}, which rwfc does not read"),
        }
    }

    /// How to fix it.
    pub fn help(self) -> &'static str {
        match self {
            Construct::Backslash => {
                "write the literal part with `/`, or pass the value in `runtime_env.env_vars`: rwfc quotes each value as one shell word itself"
            }
            Construct::Heredoc | Construct::Comment | Construct::NotUnderstood(_) => {
                "pass the value as a plain argument or in `runtime_env.env_vars`, and keep scripts in a file of the image"
            }
            Construct::BraceExpansion | Construct::Glob | Construct::Tilde => {
                "quote the literal characters around `${...}` (`'*.csv'${x}`), or pass the value in `runtime_env.env_vars`"
            }
            _ => "move `${...}` out of that construct so it stands as a plain word or part of one: rwfc quotes each value as one shell word itself",
        }
    }
}

/// For each hole of `pieces`, in order, whether the value lands as plain word characters when
/// both `bash` (the submitter) and `sh` (the head) read the text, or the construct that stops it.
pub fn read_holes(pieces: &[Piece<'_>]) -> Vec<Result<(), Construct>> {
    let tokens: Vec<Token> = pieces
        .iter()
        .flat_map(|piece| -> Box<dyn Iterator<Item = Token> + '_> {
            match piece {
                Piece::Text(text) => Box::new(text.chars().map(Token::Char)),
                Piece::Hole => Box::new(std::iter::once(Token::Hole)),
            }
        })
        .collect();
    let bash = Reader::read(&tokens, Dialect::Bash);
    let sh = Reader::read(&tokens, Dialect::Sh);
    bash.into_iter().zip(sh).map(|(b, s)| b.and(s)).collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    Char(char),
    Hole,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dialect {
    Bash,
    Sh,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Frame {
    /// Unquoted text outside any substitution: the only place a value may land.
    Top,
    Single,
    Double,
    AnsiC,
    /// `$(…)`, `<(…)`, `>(…)`, with the depth of plain parentheses inside.
    Command(u32),
    Backtick,
    /// `$((…))` or `((…))`, with the depth of parentheses inside.
    Arithmetic(u32),
    /// `${…}`, with the depth of braces inside.
    Parameter(u32),
    Comment,
}

/// What an unquoted word holds besides plain characters.
#[derive(Debug, Clone, Copy, Default)]
struct WordMarks {
    brace: bool,
    glob: bool,
    tilde: bool,
}

struct Heredoc {
    delimiter: String,
    strip_tabs: bool,
}

struct Reader<'t> {
    tokens: &'t [Token],
    at: usize,
    dialect: Dialect,
    stack: Vec<Frame>,
    /// A new word starts at the next character (start of text, after a blank or an operator).
    word_start: bool,
    /// The current unquoted word (an index into `marks`), and what each word holds.
    word: usize,
    marks: Vec<WordMarks>,
    /// The enclosing word of each open command substitution.
    outer_words: Vec<usize>,
    pending_heredocs: Vec<Heredoc>,
    broken: Option<Construct>,
    /// Per hole: its word and the verdict so far.
    holes: Vec<(usize, Result<(), Construct>)>,
}

impl<'t> Reader<'t> {
    fn read(tokens: &'t [Token], dialect: Dialect) -> Vec<Result<(), Construct>> {
        let mut reader = Reader {
            tokens,
            at: 0,
            dialect,
            stack: vec![Frame::Top],
            word_start: true,
            word: 0,
            marks: vec![WordMarks::default()],
            outer_words: Vec::new(),
            pending_heredocs: Vec::new(),
            broken: None,
            holes: Vec::new(),
        };
        while reader.at < tokens.len() {
            reader.step();
        }
        let marks = reader.marks;
        reader
            .holes
            .into_iter()
            .map(|(word, verdict)| {
                verdict?;
                let mark = marks.get(word).copied().unwrap_or_default();
                if mark.brace {
                    Err(Construct::BraceExpansion)
                } else if mark.glob {
                    Err(Construct::Glob)
                } else if mark.tilde {
                    Err(Construct::Tilde)
                } else {
                    Ok(())
                }
            })
            .collect()
    }

    fn peek(&self, ahead: usize) -> Option<Token> {
        self.tokens.get(self.at + ahead).copied()
    }

    fn frame(&self) -> Frame {
        self.stack.last().copied().unwrap_or(Frame::Top)
    }

    fn hole(&mut self, verdict: Result<(), Construct>) {
        let verdict = match self.broken {
            Some(construct) => Err(construct),
            None => verdict,
        };
        self.holes.push((self.word, verdict));
    }

    fn break_off(&mut self, what: &'static str) {
        self.broken.get_or_insert(Construct::NotUnderstood(what));
    }

    fn end_word(&mut self) {
        if !self.word_start {
            self.word = self.marks.len();
            self.marks.push(WordMarks::default());
        }
        self.word_start = true;
    }

    /// A command substitution starts a command of its own; the word around it goes on after it.
    fn open_command(&mut self) {
        self.outer_words.push(self.word);
        self.stack.push(Frame::Command(0));
        self.word_start = true;
    }

    fn close_command(&mut self) {
        self.stack.pop();
        if let Some(word) = self.outer_words.pop() {
            self.word = word;
        }
        self.word_start = false;
    }

    fn mark(&mut self, set: impl FnOnce(&mut WordMarks)) {
        if self.stack.len() == 1 {
            if let Some(marks) = self.marks.last_mut() {
                set(marks);
            }
        }
    }

    fn step(&mut self) {
        let Some(token) = self.peek(0) else { return };
        match self.frame() {
            Frame::Top | Frame::Command(_) => self.unquoted(token),
            Frame::Single => self.single(token),
            Frame::AnsiC => self.ansi_c(token),
            Frame::Double => self.double(token),
            Frame::Backtick => self.backtick(token),
            Frame::Arithmetic(depth) => self.arithmetic(token, depth),
            Frame::Parameter(depth) => self.parameter(token, depth),
            Frame::Comment => self.comment(token),
        }
    }

    fn set_depth(&mut self, frame: Frame) {
        if let Some(top) = self.stack.last_mut() {
            *top = frame;
        }
    }

    /// Unquoted text, at the top level or inside a command substitution.
    fn unquoted(&mut self, token: Token) {
        let top = self.stack.len() == 1;
        let Token::Char(c) = token else {
            let verdict = if top {
                Ok(())
            } else {
                Err(Construct::CommandSubstitution)
            };
            self.hole(verdict);
            self.word_start = false;
            self.at += 1;
            return;
        };
        self.at += 1;
        match c {
            '\\' => {
                match self.peek(0) {
                    Some(Token::Hole) => {
                        self.hole(Err(Construct::Backslash));
                        self.at += 1;
                    }
                    // A line continuation joins the lines; anything else is one literal character.
                    Some(Token::Char(_)) => self.at += 1,
                    None => {}
                }
                self.word_start = false;
            }
            '\'' => {
                self.stack.push(Frame::Single);
                self.word_start = false;
            }
            '"' => {
                self.stack.push(Frame::Double);
                self.word_start = false;
            }
            '`' => {
                self.stack.push(Frame::Backtick);
                self.word_start = false;
            }
            '$' => {
                self.word_start = false;
                self.dollar();
            }
            '#' if self.word_start => self.stack.push(Frame::Comment),
            '\n' => {
                self.end_word();
                if !self.pending_heredocs.is_empty() {
                    if top {
                        self.heredoc_bodies();
                    } else {
                        self.break_off("a heredoc inside a substitution");
                    }
                }
            }
            '<' | '>' if self.peek(0) == Some(Token::Char('(')) => {
                self.end_word();
                self.at += 1;
                self.open_command();
            }
            '<' if self.peek(0) == Some(Token::Char('<')) => {
                self.end_word();
                self.at += 1;
                if self.peek(0) == Some(Token::Char('<')) {
                    // A here-string: the word after it is an ordinary word.
                    self.at += 1;
                } else {
                    self.heredoc_operator();
                }
            }
            '(' if self.word_start && self.peek(0) == Some(Token::Char('(')) => {
                self.at += 1;
                self.stack.push(Frame::Arithmetic(0));
            }
            '(' => {
                self.end_word();
                if let Frame::Command(depth) = self.frame() {
                    self.set_depth(Frame::Command(depth + 1));
                }
            }
            ')' => {
                self.end_word();
                match self.frame() {
                    Frame::Command(0) => self.close_command(),
                    Frame::Command(depth) => self.set_depth(Frame::Command(depth - 1)),
                    _ => {}
                }
            }
            ' ' | '\t' | ';' | '&' | '|' | '<' | '>' => self.end_word(),
            _ => {
                if !top && self.word_start && self.starts_word("case") {
                    self.break_off("a `case` inside a command substitution");
                }
                match c {
                    '{' | '}' if self.dialect == Dialect::Bash => self.mark(|m| m.brace = true),
                    '*' | '?' | '[' => self.mark(|m| m.glob = true),
                    '~' => self.mark(|m| m.tilde = true),
                    _ => {}
                }
                self.word_start = false;
            }
        }
    }

    /// Whether the text from the character just read spells `word` followed by a blank.
    fn starts_word(&self, word: &str) -> bool {
        let from = self.at - 1;
        let mut chars = word.chars();
        let mut i = from;
        for expected in chars.by_ref() {
            if self.tokens.get(i) != Some(&Token::Char(expected)) {
                return false;
            }
            i += 1;
        }
        matches!(self.tokens.get(i), Some(Token::Char(' ' | '\t' | '\n')) | None)
    }

    /// After an unquoted `$` (or one inside double quotes).
    fn dollar(&mut self) {
        match self.peek(0) {
            Some(Token::Hole) => {
                self.hole(Err(Construct::Dollar));
                self.at += 1;
            }
            Some(Token::Char('(')) => {
                self.at += 1;
                if self.peek(0) == Some(Token::Char('(')) {
                    self.at += 1;
                    self.stack.push(Frame::Arithmetic(0));
                } else {
                    self.open_command();
                }
            }
            Some(Token::Char('{')) => {
                self.at += 1;
                self.stack.push(Frame::Parameter(0));
            }
            Some(Token::Char('\'')) if self.dialect == Dialect::Bash && self.frame() != Frame::Double => {
                self.at += 1;
                self.stack.push(Frame::AnsiC);
            }
            _ => {}
        }
    }

    fn single(&mut self, token: Token) {
        self.at += 1;
        match token {
            Token::Hole => self.hole(Err(Construct::SingleQuotes)),
            Token::Char('\'') => {
                self.stack.pop();
            }
            Token::Char(_) => {}
        }
    }

    fn ansi_c(&mut self, token: Token) {
        self.at += 1;
        match token {
            Token::Hole => self.hole(Err(Construct::AnsiCQuotes)),
            Token::Char('\\') => {
                if self.peek(0) == Some(Token::Hole) {
                    self.hole(Err(Construct::AnsiCQuotes));
                }
                self.at += 1;
            }
            Token::Char('\'') => {
                self.stack.pop();
            }
            Token::Char(_) => {}
        }
    }

    fn double(&mut self, token: Token) {
        self.at += 1;
        match token {
            Token::Hole => self.hole(Err(Construct::DoubleQuotes)),
            Token::Char('"') => {
                self.stack.pop();
            }
            Token::Char('\\') => match self.peek(0) {
                Some(Token::Hole) => {
                    self.hole(Err(Construct::DoubleQuotes));
                    self.at += 1;
                }
                Some(Token::Char('$' | '`' | '"' | '\\' | '\n')) => self.at += 1,
                _ => {}
            },
            Token::Char('`') => self.stack.push(Frame::Backtick),
            Token::Char('$') => self.dollar(),
            Token::Char(_) => {}
        }
    }

    fn backtick(&mut self, token: Token) {
        self.at += 1;
        match token {
            Token::Hole => self.hole(Err(Construct::Backticks)),
            Token::Char('`') => {
                self.stack.pop();
            }
            Token::Char('\\') => match self.peek(0) {
                Some(Token::Hole) => {
                    self.hole(Err(Construct::Backticks));
                    self.at += 1;
                }
                Some(Token::Char(_)) => self.at += 1,
                None => {}
            },
            Token::Char(_) => {}
        }
    }

    fn arithmetic(&mut self, token: Token, depth: u32) {
        self.at += 1;
        match token {
            Token::Hole => self.hole(Err(Construct::Arithmetic)),
            Token::Char('(') => self.set_depth(Frame::Arithmetic(depth + 1)),
            Token::Char(')') if depth > 0 => self.set_depth(Frame::Arithmetic(depth - 1)),
            Token::Char(')') if self.peek(0) == Some(Token::Char(')')) => {
                self.at += 1;
                self.stack.pop();
            }
            Token::Char('\'' | '"' | '`' | '$' | '\\' | ')') => {
                self.break_off("quoting inside an arithmetic expression")
            }
            Token::Char(_) => {}
        }
    }

    fn parameter(&mut self, token: Token, depth: u32) {
        self.at += 1;
        match token {
            Token::Hole => self.hole(Err(Construct::ParameterExpansion)),
            Token::Char('{') => self.set_depth(Frame::Parameter(depth + 1)),
            Token::Char('}') if depth > 0 => self.set_depth(Frame::Parameter(depth - 1)),
            Token::Char('}') => {
                self.stack.pop();
            }
            Token::Char('\'' | '"' | '`' | '$' | '\\') => self.break_off("quoting inside a parameter expansion"),
            Token::Char(_) => {}
        }
    }

    fn comment(&mut self, token: Token) {
        match token {
            Token::Hole => {
                self.at += 1;
                self.hole(Err(Construct::Comment));
            }
            // The newline ends the comment and is read by the frame below.
            Token::Char('\n') => {
                self.stack.pop();
            }
            Token::Char(_) => self.at += 1,
        }
    }

    /// After `<<`: an optional `-`, blanks, then the delimiter word (quotes removed).
    fn heredoc_operator(&mut self) {
        let strip_tabs = self.peek(0) == Some(Token::Char('-'));
        if strip_tabs {
            self.at += 1;
        }
        while matches!(self.peek(0), Some(Token::Char(' ' | '\t'))) {
            self.at += 1;
        }
        let mut delimiter = String::new();
        let mut quote: Option<char> = None;
        loop {
            match self.peek(0) {
                None => break,
                Some(Token::Hole) => {
                    self.hole(Err(Construct::Heredoc));
                    self.at += 1;
                    self.break_off("a heredoc whose delimiter holds a value");
                    return;
                }
                Some(Token::Char(c)) => {
                    match (quote, c) {
                        (Some(q), c) if c == q => quote = None,
                        (Some(_), c) => delimiter.push(c),
                        (None, '\'' | '"') => quote = Some(c),
                        (None, '\\') => {
                            if let Some(Token::Char(next)) = self.peek(1) {
                                delimiter.push(next);
                                self.at += 1;
                            }
                        }
                        (None, ' ' | '\t' | '\n' | ';' | '&' | '|' | '<' | '>' | '(' | ')') => break,
                        (None, '$' | '`') => {
                            self.break_off("a heredoc delimiter with an expansion");
                            return;
                        }
                        (None, c) => delimiter.push(c),
                    }
                    self.at += 1;
                }
            }
        }
        if delimiter.is_empty() || quote.is_some() {
            self.break_off("a heredoc without a delimiter");
            return;
        }
        self.pending_heredocs.push(Heredoc { delimiter, strip_tabs });
    }

    /// The bodies of the pending heredocs, line by line, each up to its delimiter line.
    fn heredoc_bodies(&mut self) {
        for heredoc in std::mem::take(&mut self.pending_heredocs) {
            loop {
                if self.at >= self.tokens.len() {
                    return;
                }
                let mut line = String::new();
                let mut holes = 0;
                while let Some(token) = self.peek(0) {
                    self.at += 1;
                    match token {
                        Token::Char('\n') => break,
                        Token::Char(c) => line.push(c),
                        Token::Hole => holes += 1,
                    }
                }
                for _ in 0..holes {
                    self.hole(Err(Construct::Heredoc));
                }
                let line = if heredoc.strip_tabs {
                    line.trim_start_matches('\t')
                } else {
                    line.as_str()
                };
                if holes == 0 && line == heredoc.delimiter {
                    break;
                }
            }
        }
    }
}

/// Shell syntax in an entrypoint's literal text that the submitter's `bash` runs or expands in
/// the submitter pod (W0502).
pub fn shell_syntax(text: &str) -> Option<&'static str> {
    [
        (";", "`;`"),
        ("&", "`&`"),
        ("|", "`|`"),
        ("<", "`<`"),
        (">", "`>`"),
        ("#", "`#`"),
        ("\n", "a newline"),
        ("`", "a backtick"),
        ("$", "`$`"),
    ]
    .into_iter()
    .find(|(s, _)| text.contains(s))
    .map(|(_, name)| name)
}

/// Whether bash expands something in `text` inside the double quotes KubeRay wraps the runtime
/// env JSON in (`strconv.Quote` escapes `"` and `\`, but leaves `$` and backticks to bash).
pub fn expands_in_double_quotes(text: &str) -> bool {
    text.contains(['$', '`'])
}

/// Whether `text`, written after `--key=` in KubeRay's `ray start` line, reaches `ray start` as
/// one word that bash neither expands nor splits: plain word characters, and quoted stretches
/// (`'...'` without `'`, `"..."` without `"`, `$`, backtick or `\`) of printable characters.
pub fn is_one_bash_word(text: &str) -> bool {
    let mut quote: Option<char> = None;
    for c in text.chars() {
        match (quote, c) {
            (_, c) if c.is_control() => return false,
            (Some(q), c) if c == q => quote = None,
            (Some('"'), '$' | '`' | '\\') => return false,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, c) => {
                if !(c.is_ascii() && is_safe_byte(c as u8)) {
                    return false;
                }
            }
        }
    }
    quote.is_none()
}

/// A Ray version at least `major.minor`; `None` when the text is not a version.
pub fn version_at_least(version: &str, major: u32, minor: u32) -> Option<bool> {
    let mut parts = version.split('.');
    let found_major: u32 = parts.next()?.parse().ok()?;
    let found_minor: u32 = parts.next().map_or(Some(0), |m| m.parse().ok())?;
    Some((found_major, found_minor) >= (major, minor))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_only_what_needs_it() {
        assert_eq!(posix_quote("s3://bucket/key"), "s3://bucket/key");
        assert_eq!(posix_quote("it's"), r"'it'\''s'");
        assert_eq!(posix_quote(""), "''");
    }

    /// The verdict of each hole of a text where `@` marks a hole.
    fn read(text: &str) -> Vec<Result<(), Construct>> {
        let mut pieces = Vec::new();
        for (i, part) in text.split('@').enumerate() {
            if i > 0 {
                pieces.push(Piece::Hole);
            }
            pieces.push(Piece::Text(part));
        }
        read_holes(&pieces)
    }

    #[test]
    fn plain_words_are_allowed() {
        assert_eq!(read("python -m train --data @ --epochs=@ x@y @@"), vec![Ok(()); 5]);
        assert_eq!(read("a 'quoted' \"and\" $'ansi' @"), vec![Ok(())]);
        assert_eq!(read("echo $(date) `date` $((1+2)) ${HOME} @"), vec![Ok(())]);
        assert_eq!(
            read("a \\\\@"),
            vec![Ok(())],
            "an escaped backslash escapes nothing after it"
        );
        assert_eq!(read("a && b | c; d > f @ # trailing"), vec![Ok(())]);
        assert_eq!(read("a#b @"), vec![Ok(())], "`#` inside a word is no comment");
    }

    #[test]
    fn each_construct_is_named() {
        let cases = [
            ("run '@'", Construct::SingleQuotes),
            ("echo \"a @\"", Construct::DoubleQuotes),
            ("C:\\data\\@", Construct::Backslash),
            ("echo $'a\\'@'", Construct::AnsiCQuotes),
            ("echo $@", Construct::Dollar),
            ("python - <<EOF\nprint(@)\nEOF", Construct::Heredoc),
            ("python - <<-'END'\n\tx @\n\tEND", Construct::Heredoc),
            ("run # @", Construct::Comment),
            ("echo $(cat @)", Construct::CommandSubstitution),
            ("diff <(sort @) b", Construct::CommandSubstitution),
            ("echo `cat @`", Construct::Backticks),
            ("echo $((1 + @))", Construct::Arithmetic),
            ("(( n = @ ))", Construct::Arithmetic),
            ("echo ${x:-@}", Construct::ParameterExpansion),
            ("cp {a,@} d", Construct::BraceExpansion),
            ("ls data/*@", Construct::Glob),
            ("ls ~@", Construct::Tilde),
        ];
        for (text, construct) in cases {
            assert_eq!(read(text), vec![Err(construct)], "{text:?}");
        }
    }

    #[test]
    fn the_reading_goes_on_after_a_construct_closes() {
        assert_eq!(read("a 'x' @ \"y\" @"), vec![Ok(()); 2]);
        assert_eq!(
            read("python - <<EOF\nx @\nEOF\necho @"),
            vec![Err(Construct::Heredoc), Ok(())]
        );
        assert_eq!(read("a # c @\nb @"), vec![Err(Construct::Comment), Ok(())]);
        assert_eq!(read("echo $(a (b) c) @"), vec![Ok(())]);
        assert_eq!(read("ls *.csv @"), vec![Ok(())], "a glob in another word is harmless");
        assert_eq!(
            read("ls *$(a b)@"),
            vec![Err(Construct::Glob)],
            "the word goes on after `$(…)`"
        );
    }

    #[test]
    fn bash_and_sh_must_both_agree() {
        // bash reads `$'\''` as one quote character; sh reads `$` and then opens a quote.
        assert_eq!(read("a $'\\'' @"), vec![Err(Construct::SingleQuotes)]);
    }

    #[test]
    fn what_the_reader_does_not_follow_refuses_the_rest() {
        let refused = |text: &str| read(text).iter().all(|v| matches!(v, Err(Construct::NotUnderstood(_))));
        assert!(refused("echo $(case x in a) y;; esac) @"));
        assert!(matches!(
            read("cat <<@\nx\n@").as_slice(),
            [Err(Construct::Heredoc), Err(Construct::NotUnderstood(_))]
        ));
        assert_eq!(read("cat <<< @"), vec![Ok(())]);
        assert!(refused("echo ${x:-'}'} @"));
    }

    #[test]
    fn finds_shell_syntax_in_literal_text() {
        assert_eq!(shell_syntax("python -m x"), None);
        assert_eq!(shell_syntax("python -m x > log"), Some("`>`"));
        assert_eq!(shell_syntax("a\nb"), Some("a newline"));
        assert_eq!(shell_syntax("echo $HOME"), Some("`$`"));
        assert_eq!(shell_syntax("x # no"), Some("`#`"));
    }

    #[test]
    fn one_bash_word() {
        assert!(is_one_bash_word("0.0.0.0"));
        assert!(is_one_bash_word("'{\"CPU\": 1, \"GPU\": 2}'"));
        assert!(is_one_bash_word("\"{'custom': 1}\""));
        assert!(!is_one_bash_word("0.0.0.0;touch x;echo"));
        assert!(!is_one_bash_word("a b"));
        assert!(!is_one_bash_word("\"$(id)\""));
        assert!(!is_one_bash_word("'unclosed"));
        assert!(!is_one_bash_word("a\nb"));
    }

    #[test]
    fn compares_ray_versions() {
        assert_eq!(version_at_least("2.60.0", 2, 60), Some(true));
        assert_eq!(version_at_least("2.9.3", 2, 60), Some(false));
        assert_eq!(version_at_least("3", 2, 60), Some(true));
        assert_eq!(version_at_least("latest", 2, 60), None);
    }
}
