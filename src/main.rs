//! The `rwfc` command: reads files, calls the library, renders diagnostics, sets the exit code
//! (0 ok, 1 compile errors, 2 usage or I/O errors).

use clap::{Parser, Subcommand, ValueEnum};
use rwfc::diagnostics::{render, Code, Severity};
use rwfc::load::FileSystem;
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "rwfc",
    version,
    about = "Compiler for rwf workflows of Ray jobs on Kubernetes"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Type-check files and report every problem found.
    Check {
        /// The `.rwf` files to check.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[arg(long, value_enum, default_value_t = MessageFormat::Human)]
        message_format: MessageFormat,
        /// Fail (exit 1) on warnings too.
        #[arg(long)]
        deny_warnings: bool,
        /// The compilation root imports must stay inside (default: each file's directory).
        #[arg(long)]
        root: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = Color::Auto)]
        color: Color,
    },
    /// Print the long explanation of a diagnostic code, e.g. `rwfc explain E0202`.
    Explain { code: String },
}

#[derive(Clone, Copy, ValueEnum)]
enum MessageFormat {
    Human,
    Short,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum Color {
    Auto,
    Always,
    Never,
}

struct OsFileSystem;

impl FileSystem for OsFileSystem {
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        std::fs::read(path)
    }

    fn canonicalize(&self, path: &Path) -> io::Result<PathBuf> {
        std::fs::canonicalize(path)
    }
}

/// Deep but bounded recursion in the parser and checker gets room of its own.
const STACK_BYTES: usize = 256 * 1024 * 1024;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let worker = std::thread::Builder::new()
        .stack_size(STACK_BYTES)
        .spawn(move || run(cli));
    match worker.map(|handle| handle.join()) {
        Ok(Ok(code)) => code,
        _ => {
            eprintln!("error: internal compiler error; please report it with the input that caused it");
            ExitCode::from(101)
        }
    }
}

fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Explain { code } => explain(&code),
        Command::Check {
            files,
            message_format,
            deny_warnings,
            root,
            color,
        } => check(&files, message_format, deny_warnings, root.as_deref(), color),
    }
}

fn explain(code: &str) -> ExitCode {
    match Code::parse(code) {
        Some(code) => {
            print!("{}", code.explanation());
            ExitCode::SUCCESS
        }
        None => {
            eprintln!("error: `{code}` is not a diagnostic code of rwfc (codes look like E0202 or W0001)");
            ExitCode::from(2)
        }
    }
}

fn check(files: &[PathBuf], format: MessageFormat, deny_warnings: bool, root: Option<&Path>, color: Color) -> ExitCode {
    let color = match color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => std::env::var_os("NO_COLOR").is_none() && io::stderr().is_terminal(),
    };
    let mut failed = false;
    let mut stderr = io::stderr().lock();
    for file in files {
        let bytes = match std::fs::read(file) {
            Ok(bytes) => bytes,
            Err(error) => {
                let _ = writeln!(stderr, "error: cannot read `{}`: {error}", file.display());
                return ExitCode::from(2);
            }
        };
        let root = root
            .map(Path::to_path_buf)
            .unwrap_or_else(|| file.parent().map(Path::to_path_buf).unwrap_or_default());
        let root = if root.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            root
        };
        let main = match relative_to(file, &root) {
            Some(main) => main,
            None => {
                let _ = writeln!(
                    stderr,
                    "error: `{}` is not inside the root `{}`",
                    file.display(),
                    root.display()
                );
                return ExitCode::from(2);
            }
        };
        let checked = rwfc::check(&OsFileSystem, &root, &main, &bytes);
        for diagnostic in &checked.diagnostics {
            failed |= diagnostic.severity() == Severity::Error || deny_warnings;
            let text = match format {
                MessageFormat::Human => render::human(diagnostic, &checked.sources, color),
                MessageFormat::Short => render::short(diagnostic, &checked.sources),
                MessageFormat::Json => render::json(diagnostic, &checked.sources),
            };
            let _ = writeln!(stderr, "{}", text.trim_end());
        }
    }
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// `file` relative to `root`, with `/` separators.
fn relative_to(file: &Path, root: &Path) -> Option<String> {
    let file = std::fs::canonicalize(file).ok()?;
    let root = std::fs::canonicalize(root).ok()?;
    let relative = file.strip_prefix(&root).ok()?;
    let parts: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    Some(parts.join("/"))
}
