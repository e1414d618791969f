//! Writing `OUT/<workflow>/` directories: each replaced as a whole, never half-written, with
//! builds into one output directory taking turns.

use std::collections::BTreeSet;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

/// Held while a build writes into an output directory: concurrent builds into one `-o` take
/// turns instead of failing on each other's staging folders.
pub struct OutputLock {
    _file: File,
}

impl OutputLock {
    /// Takes the lock of `output` (created if missing), waiting for another build to finish,
    /// and removes staging folders that a killed build left behind: under the lock, no other
    /// build is writing.
    pub fn take(output: &Path) -> io::Result<OutputLock> {
        std::fs::create_dir_all(output)?;
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(output.join(".rwfc.lock"))?;
        file.lock()?;
        for entry in std::fs::read_dir(output)? {
            let entry = entry?;
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') && (name.contains(".rwfc-new-") || name.contains(".rwfc-old-")) {
                std::fs::remove_dir_all(entry.path())?;
            }
        }
        Ok(OutputLock { _file: file })
    }
}

/// Replaces `output/name` as a whole: the files are written into a fresh directory beside it,
/// which then takes its place in one step, so no reader ever sees old and new files mixed, and
/// no moment lacks the directory. The files are spread over `threads` threads. Call it while
/// holding the `OutputLock` of `output`.
pub fn write_atomically(output: &Path, name: &str, files: &[(String, String)], threads: usize) -> io::Result<()> {
    // Names come out of the compiler as DNS labels; anything else must never become a path.
    let component = |text: &str| {
        !text.is_empty()
            && text
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    let safe = component(name)
        && files
            .iter()
            .all(|(path, _)| path.split('/').all(|part| component(part.trim_end_matches(".yaml"))));
    if !safe {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("refusing to write the unsafe name `{name}`"),
        ));
    }
    let staging = output.join(format!(".{name}.rwfc-new-{}", std::process::id()));
    let target = output.join(name);
    let written = (|| {
        // Each folder once, not a `mkdir` per file; then the files, whose creation is mostly the
        // kernel's work and goes as well on every core. The first error in file order is the
        // one reported.
        let folders: BTreeSet<&Path> = files.iter().filter_map(|(path, _)| Path::new(path).parent()).collect();
        for folder in folders {
            std::fs::create_dir_all(staging.join(folder))?;
        }
        rwfc::parallel::map_ranges(files, threads, |range| {
            range
                .iter()
                .try_for_each(|(path, contents)| std::fs::write(staging.join(path), contents))
        })
        .into_iter()
        .collect::<io::Result<()>>()
    })();
    if let Err(error) = written {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(error);
    }
    match swap(&staging, &target) {
        // `staging` now holds the old directory.
        Ok(true) => std::fs::remove_dir_all(&staging),
        Ok(false) => Ok(()),
        Err(error) => {
            let _ = std::fs::remove_dir_all(&staging);
            Err(error)
        }
    }
}

/// Puts `new` at `target`; true when an old `target` was swapped to `new`'s path.
fn swap(new: &Path, target: &Path) -> io::Result<bool> {
    if !target.exists() {
        std::fs::rename(new, target)?;
        return Ok(false);
    }
    if exchange(new, target)? {
        return Ok(true);
    }
    // Without an atomic exchange: two renames, the old directory moved aside first.
    let retired = retired_path(target);
    std::fs::rename(target, &retired)?;
    if let Err(error) = std::fs::rename(new, target) {
        let _ = std::fs::rename(&retired, target);
        return Err(error);
    }
    std::fs::rename(&retired, new)?;
    Ok(true)
}

fn retired_path(target: &Path) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    target.with_file_name(format!(".{name}.rwfc-old-{}", std::process::id()))
}

/// Exchanges two directories in one step (Linux `renameat2(RENAME_EXCHANGE)`); false where the
/// kernel or file system cannot.
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> io::Result<bool> {
    use rustix::fs::{renameat_with, RenameFlags, CWD};
    match renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE) {
        Ok(()) => Ok(true),
        Err(rustix::io::Errno::INVAL | rustix::io::Errno::NOSYS | rustix::io::Errno::OPNOTSUPP) => Ok(false),
        Err(error) => Err(error.into()),
    }
}

#[cfg(not(target_os = "linux"))]
fn exchange(_a: &Path, _b: &Path) -> io::Result<bool> {
    Ok(false)
}
