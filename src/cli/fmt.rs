//! `rwfc fmt`: reads files (or stdin), formats them with the library and writes back the ones
//! that changed, each through a temporary file renamed over it.

use rwfc::diagnostics::Diagnostic;
use rwfc::source::{Origin, SourceMap};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Formats `paths` (`-` for stdin to stdout; a directory for every `.rwf` under it). With
/// `check`, changes nothing and names the files that would change. `report` writes diagnostics.
pub fn run(paths: &[PathBuf], check: bool, report: impl Fn(&[Diagnostic], &SourceMap)) -> ExitCode {
    let mut failed = false;
    let mut files = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            files.push(path.clone());
        } else if let Err(error) = collect(path, &mut files) {
            eprintln!("error: cannot read `{}`: {error}", path.display());
            return ExitCode::from(2);
        }
    }
    for file in &files {
        let stdin = file.as_os_str() == "-";
        let text = if stdin {
            read_stdin()
        } else {
            std::fs::read_to_string(file)
        };
        let text = match text {
            Ok(text) => text,
            Err(error) => {
                eprintln!("error: cannot read `{}`: {error}", file.display());
                return ExitCode::from(2);
            }
        };
        let formatted = match rwfc::format::format(&text) {
            Ok(formatted) => formatted,
            Err(diagnostics) => {
                let mut sources = SourceMap::new();
                // The only file, so it gets the id the formatter's diagnostics use.
                sources.add(Origin::User(file.display().to_string()), text.as_str());
                report(&diagnostics.into_iter().collect::<Vec<_>>(), &sources);
                failed = true;
                continue;
            }
        };
        let outcome = if check {
            if formatted != text {
                println!("{}", file.display());
                failed = true;
            }
            Ok(())
        } else if stdin {
            io::stdout().lock().write_all(formatted.as_bytes())
        } else if formatted != text {
            replace(file, &formatted)
        } else {
            Ok(())
        };
        if let Err(error) = outcome {
            eprintln!("error: cannot write `{}`: {error}", file.display());
            return ExitCode::from(2);
        }
    }
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn read_stdin() -> io::Result<String> {
    let mut text = String::new();
    io::stdin().lock().read_to_string(&mut text)?;
    Ok(text)
}

/// `path` itself, or every `.rwf` file under the directory `path`, in name order.
fn collect(path: &Path, files: &mut Vec<PathBuf>) -> io::Result<()> {
    if !std::fs::metadata(path)?.is_dir() {
        files.push(path.to_path_buf());
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<io::Result<_>>()?;
    entries.sort();
    for entry in entries {
        if entry.is_dir() {
            collect(&entry, files)?;
        } else if entry.extension().is_some_and(|e| e == "rwf") {
            files.push(entry);
        }
    }
    Ok(())
}

/// Writes `text` beside `path` and renames it over `path`, keeping its permissions.
fn replace(path: &Path, text: &str) -> io::Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = path.with_file_name(format!(".{name}.rwfc-fmt-{}", std::process::id()));
    let written = std::fs::write(&temporary, text)
        .and_then(|()| std::fs::set_permissions(&temporary, std::fs::metadata(path)?.permissions()))
        .and_then(|()| std::fs::rename(&temporary, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written
}
