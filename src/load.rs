//! Loading: the main file and everything it imports, parsed, with every import confined to
//! the compilation root (language reference §3.1).

use crate::ast::{self, ItemKind};
use crate::diagnostics::{Code, Diagnostic, Diagnostics};
use crate::source::{FileId, Origin, SourceMap, Span};
use crate::{stdlib, syntax};
use std::collections::{BTreeMap, HashMap};
use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

/// At most this many files in one compilation (E0603).
pub const MAX_FILES: usize = 1000;

/// How the library reaches files; the binary implements it over the real file system.
pub trait FileSystem {
    fn read(&self, path: &Path) -> io::Result<Vec<u8>>;
    /// The absolute path with every symlink resolved.
    fn canonicalize(&self, path: &Path) -> io::Result<PathBuf>;
}

/// A file system with no files: a program given as bytes can import only the embedded standard
/// library (`std/...`); every other import is E0103. For embedders, fuzzers and tests.
pub struct NoFiles;

impl FileSystem for NoFiles {
    fn read(&self, _path: &Path) -> io::Result<Vec<u8>> {
        Err(io::ErrorKind::NotFound.into())
    }

    fn canonicalize(&self, _path: &Path) -> io::Result<PathBuf> {
        Err(io::ErrorKind::NotFound.into())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ModuleId(pub u32);

#[derive(Debug)]
pub struct Module {
    pub file: FileId,
    /// `None` when the file did not parse.
    pub ast: Option<ast::File>,
    /// The module each import item (by item index) loaded.
    pub imports: BTreeMap<usize, ModuleId>,
}

impl Module {
    pub fn items(&self) -> &[ast::Item] {
        self.ast.as_ref().map_or(&[], |f| &f.items)
    }
}

#[derive(Debug)]
pub struct Program {
    pub sources: SourceMap,
    pub modules: Vec<Module>,
}

impl Program {
    /// The module of the file given on the command line.
    pub const ROOT: ModuleId = ModuleId(0);

    pub fn module(&self, id: ModuleId) -> Option<&Module> {
        self.modules.get(id.0 as usize)
    }

    pub fn modules(&self) -> impl Iterator<Item = (ModuleId, &Module)> {
        self.modules.iter().enumerate().map(|(i, m)| (ModuleId(i as u32), m))
    }

    pub fn is_stdlib(&self, id: ModuleId) -> bool {
        self.module(id)
            .and_then(|m| self.sources.file(m.file))
            .is_some_and(|f| f.is_stdlib())
    }
}

/// Parses `main` (its bytes, its path relative to `root`) and every file it imports.
pub fn load(fs: &dyn FileSystem, root: &Path, main: &str, bytes: &[u8], diagnostics: &mut Diagnostics) -> Program {
    let mut loader = Loader {
        fs,
        root,
        canonical_root: fs.canonicalize(root).unwrap_or_else(|_| root.to_path_buf()),
        program: Program {
            sources: SourceMap::new(),
            modules: Vec::new(),
        },
        by_origin: HashMap::new(),
        diagnostics,
    };
    loader.add(Origin::User(main.to_owned()), bytes);
    let mut next = 0;
    while next < loader.program.modules.len() {
        loader.load_imports(ModuleId(next as u32));
        next += 1;
    }
    report_cycles(&loader.program, loader.diagnostics);
    loader.program
}

struct Loader<'a> {
    fs: &'a dyn FileSystem,
    root: &'a Path,
    canonical_root: PathBuf,
    program: Program,
    by_origin: HashMap<Origin, ModuleId>,
    diagnostics: &'a mut Diagnostics,
}

impl Loader<'_> {
    fn add(&mut self, origin: Origin, bytes: &[u8]) -> ModuleId {
        let id = ModuleId(self.program.modules.len() as u32);
        let file = self.program.sources.next_id();
        let text: Option<Arc<str>> = syntax::decode(file, bytes, self.diagnostics).map(Into::into);
        let file = self
            .program
            .sources
            .add(origin.clone(), text.clone().unwrap_or_default());
        let ast = text.and_then(|text| syntax::parse(file, &text, self.diagnostics));
        self.program.modules.push(Module {
            file,
            ast,
            imports: BTreeMap::new(),
        });
        self.by_origin.insert(origin, id);
        id
    }

    fn load_imports(&mut self, id: ModuleId) {
        let Some(module) = self.program.module(id) else {
            return;
        };
        let importer = self.program.sources.file(module.file).map(|f| f.origin.clone());
        let imports: Vec<(usize, ast::PlainString)> = module
            .items()
            .iter()
            .enumerate()
            .filter_map(|(i, item)| match &item.kind {
                ItemKind::Import(import) => Some((i, import.path.clone())),
                _ => None,
            })
            .collect();
        let Some(importer) = importer else { return };
        for (index, path) in imports {
            if let Some(target) = self.import(&importer, &path) {
                if let Some(module) = self.program.modules.get_mut(id.0 as usize) {
                    module.imports.insert(index, target);
                }
            }
        }
    }

    /// Finds, reads and parses one import; `None` after reporting why it cannot be loaded.
    fn import(&mut self, importer: &Origin, path: &ast::PlainString) -> Option<ModuleId> {
        let origin = match self.locate(importer, path) {
            Ok(origin) => origin,
            Err(problem) => {
                self.diagnostics.push(problem);
                return None;
            }
        };
        if let Some(&id) = self.by_origin.get(&origin) {
            return Some(id);
        }
        if self.program.modules.len() >= MAX_FILES {
            self.diagnostics.push(
                Diagnostic::new(
                    Code::E0603,
                    path.span,
                    format!("more than {MAX_FILES} files are loaded in this compilation"),
                    "one import too many",
                )
                .help("merge small modules; the limit keeps a runaway import graph from exhausting memory"),
            );
            return None;
        }
        let bytes = match &origin {
            Origin::Stdlib(name) => {
                let stem = name.trim_start_matches("std/").trim_end_matches(".rwf");
                stdlib::source(stem)?.as_bytes().to_vec()
            }
            Origin::User(relative) => match self.fs.read(&self.root.join(relative)) {
                Ok(bytes) => bytes,
                Err(error) => {
                    self.diagnostics
                        .push(not_found(path, &format!("cannot read `{relative}`: {error}")));
                    return None;
                }
            },
        };
        Some(self.add(origin, &bytes))
    }

    fn locate(&self, importer: &Origin, path: &ast::PlainString) -> Result<Origin, Diagnostic> {
        let text = path.value.as_str();
        if let Some(name) = text.strip_prefix("std/") {
            return match stdlib::source(name) {
                Some(_) => Ok(Origin::Stdlib(format!("std/{name}.rwf"))),
                None => Err(
                    not_found(path, &format!("the standard library has no module `{name}`")).help(format!(
                        "the standard library has {}",
                        stdlib::MODULES
                            .iter()
                            .map(|(n, _)| format!("`std/{n}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                ),
            };
        }
        let Origin::User(importer) = importer else {
            return Err(not_found(path, "the standard library imports only `std/` modules"));
        };
        // Confinement is decided before the path's form or existence (§3.1).
        if Path::new(text).has_root() || text.starts_with('/') || text.starts_with('\\') {
            return Err(outside_root(path, "an absolute path"));
        }
        let dir = Path::new(importer).parent().unwrap_or(Path::new(""));
        let Some(relative) = normalize(&dir.join(text)) else {
            return Err(outside_root(path, "a path whose `..` climbs above the root"));
        };
        let full = self.root.join(&relative);
        let canonical = self.fs.canonicalize(&full);
        if let Ok(canonical) = &canonical {
            if !canonical.starts_with(&self.canonical_root) {
                return Err(outside_root(path, "a symlink that leads out of the root"));
            }
        }
        if !(text.starts_with("./") || text.starts_with("../")) || !text.ends_with(".rwf") {
            return Err(not_found(
                path,
                "an import path is `std/NAME`, or starts with `./` or `../` and ends in `.rwf`",
            )
            .help("write `import \"./common.rwf\"` for a file beside this one"));
        }
        if canonical.is_err() {
            return Err(not_found(path, &format!("file `{relative}` does not exist")));
        }
        Ok(Origin::User(relative))
    }
}

/// `a/./b/../c` → `a/c` with `/` separators; `None` when `..` climbs above the start.
fn normalize(path: &Path) -> Option<String> {
    let mut parts: Vec<String> = Vec::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => parts.push(part.to_string_lossy().into_owned()),
            Component::ParentDir => {
                parts.pop()?;
            }
            Component::CurDir => {}
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(parts.join("/"))
}

fn not_found(path: &ast::PlainString, why: &str) -> Diagnostic {
    Diagnostic::new(
        Code::E0103,
        path.span,
        format!("cannot import `{}`: {why}", path.value),
        "import not found",
    )
    .help("check the path; a file import is relative to the importing file")
}

fn outside_root(path: &ast::PlainString, what: &str) -> Diagnostic {
    Diagnostic::new(
        Code::E0105,
        path.span,
        format!("import `{}` leaves the compilation root", path.value),
        what,
    )
    .help("imports must stay inside the directory of the compiled file (or `--root`); move the file inside it")
}

/// E0104 for every import cycle, naming each file of it.
fn report_cycles(program: &Program, diagnostics: &mut Diagnostics) {
    let edges: Vec<Vec<(ModuleId, usize)>> = program
        .modules
        .iter()
        .map(|m| m.imports.iter().map(|(item, target)| (*target, *item)).collect())
        .collect();
    for cycle in crate::dag::cycles(program.modules.len(), |n| {
        edges
            .get(n)
            .map(|e| e.iter().map(|(t, _)| t.0 as usize).collect())
            .unwrap_or_default()
    }) {
        let import_span = |from: usize, to: usize| -> Option<Span> {
            let (_, item) = edges.get(from)?.iter().find(|(t, _)| t.0 as usize == to)?;
            let module = program.modules.get(from)?;
            match &module.items().get(*item)?.kind {
                ItemKind::Import(import) => Some(import.path.span),
                _ => None,
            }
        };
        let name = |n: usize| {
            program
                .modules
                .get(n)
                .and_then(|m| program.sources.file(m.file))
                .map_or_else(String::new, |f| f.name().to_owned())
        };
        let Some(&first) = cycle.first() else { continue };
        let next = |i: usize| cycle.get((i + 1) % cycle.len()).copied().unwrap_or(first);
        let Some(primary) = import_span(first, next(0)) else {
            continue;
        };
        let names: Vec<String> = cycle.iter().map(|&n| name(n)).chain([name(first)]).collect();
        let mut diagnostic = Diagnostic::new(
            Code::E0104,
            primary,
            format!("import cycle: {}", names.join(" → ")),
            format!("`{}` imports `{}`", name(first), name(next(0))),
        )
        .help("move what the files share into a third file that both import");
        for (i, &n) in cycle.iter().enumerate().skip(1) {
            if let Some(span) = import_span(n, next(i)) {
                diagnostic = diagnostic.label(span, format!("`{}` imports `{}`", name(n), name(next(i))));
            }
        }
        diagnostics.push(diagnostic);
    }
}
