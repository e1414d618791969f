//! The registry of diagnostic codes. A code keeps its meaning forever; new codes are added,
//! never reused. Each has a long explanation in `explain/<CODE>.md` for `rwfc explain`.

use super::Severity;

macro_rules! codes {
    ($($code:ident => $title:literal,)*) => {
        /// A stable diagnostic code of the language reference (§10).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code {
            $($code,)*
        }

        impl Code {
            pub const ALL: &'static [Code] = &[$(Code::$code,)*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Code::$code => stringify!($code),)*
                }
            }

            /// One line saying what the code means.
            pub fn title(self) -> &'static str {
                match self {
                    $(Code::$code => $title,)*
                }
            }

            /// The long explanation with an example, shown by `rwfc explain`.
            pub fn explanation(self) -> &'static str {
                match self {
                    $(Code::$code => include_str!(concat!("explain/", stringify!($code), ".md")),)*
                }
            }
        }
    };
}

codes! {
    E0001 => "syntax error (or invalid UTF-8)",
    E0101 => "unknown name, or a value used before its binding",
    E0102 => "duplicate definition, key, module name or final node name",
    E0103 => "import not found",
    E0104 => "cycle between imports, constants or clusters",
    E0105 => "import path leaves the compilation root",
    E0201 => "type mismatch",
    E0202 => "unknown field",
    E0203 => "missing required field",
    E0204 => "missing argument",
    E0205 => "unknown argument or `--set` name",
    E0206 => "wrong arguments to a builtin",
    E0207 => "calling something that is not a task or workflow, or `with` on a workflow call",
    E0301 => "division by zero in a compile-time evaluation",
    E0302 => "integer overflow",
    E0303 => "value out of range",
    E0304 => "invalid quantity or duration suffix",
    E0401 => "dependency cycle in a workflow, or a workflow calling itself",
    E0402 => "missing or mistyped `return`",
    E0601 => "nesting too deep",
    E0602 => "file too large",
    E0603 => "too many imported files",
    E0604 => "string too long",
    W0001 => "unused binding, import or parameter",
}

impl Code {
    pub fn severity(self) -> Severity {
        if self.as_str().starts_with('W') {
            Severity::Warning
        } else {
            Severity::Error
        }
    }

    /// Looks a code up by its text, case-insensitively (`e0101` works too).
    pub fn parse(text: &str) -> Option<Code> {
        Code::ALL
            .iter()
            .copied()
            .find(|c| c.as_str().eq_ignore_ascii_case(text.trim()))
    }
}
