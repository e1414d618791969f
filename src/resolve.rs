//! Module scopes: which name means which item, in every module (language reference §3).
//! Reports duplicate names (E0102) and imports whose module name cannot be derived.

use crate::ast::{Ident, ItemKind};
use crate::diagnostics::{Code, Diagnostic, Diagnostics, NameIndex};
use crate::load::{ModuleId, Program};
use crate::source::Span;
use crate::types::ItemRef;
use std::collections::HashMap;
use std::sync::OnceLock;

/// What a top-level name of a module refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Def {
    Item(ItemRef),
    /// An imported module; `import` is the import item, for W0001.
    Module {
        module: ModuleId,
        import: ItemRef,
    },
    /// An import that failed (already reported): its uses stay quiet.
    Unloaded,
}

#[derive(Debug, Default)]
pub struct Scope {
    names: HashMap<String, (Def, Span)>,
    /// Every name, indexed for did-you-mean on the first unknown name.
    suggestions: OnceLock<NameIndex>,
}

impl Scope {
    pub fn get(&self, name: &str) -> Option<Def> {
        self.names.get(name).map(|(d, _)| *d)
    }

    /// Every name, for did-you-mean suggestions.
    pub fn suggestions(&self) -> &NameIndex {
        self.suggestions
            .get_or_init(|| NameIndex::new(self.names.keys().map(String::as_str)))
    }

    /// The names of items (not modules) defined in this scope.
    pub fn items(&self) -> impl Iterator<Item = (&str, ItemRef)> {
        self.names.iter().filter_map(|(n, (d, _))| match d {
            Def::Item(r) => Some((n.as_str(), *r)),
            Def::Module { .. } | Def::Unloaded => None,
        })
    }
}

#[derive(Debug, Default)]
pub struct Scopes {
    scopes: Vec<Scope>,
}

impl Scopes {
    pub fn of(&self, module: ModuleId) -> Option<&Scope> {
        self.scopes.get(module.0 as usize)
    }
}

pub fn resolve(program: &Program, diagnostics: &mut Diagnostics) -> Scopes {
    let scopes = program
        .modules()
        .map(|(id, module)| {
            let mut scope = Scope::default();
            for (index, item) in module.items().iter().enumerate() {
                let this = ItemRef { module: id, index };
                let (name, def) = match &item.kind {
                    ItemKind::Import(import) => {
                        let Some(name) =
                            module_name(import.alias.as_ref(), &import.path.value, import.path.span, diagnostics)
                        else {
                            continue;
                        };
                        match module.imports.get(&index) {
                            Some(&target) => (
                                name,
                                Def::Module {
                                    module: target,
                                    import: this,
                                },
                            ),
                            None => (name, Def::Unloaded),
                        }
                    }
                    _ => match item.name() {
                        Some(ident) => (ident.clone(), Def::Item(this)),
                        None => continue,
                    },
                };
                match scope.names.get(&name.name) {
                    Some((_, first)) => diagnostics.push(
                        Diagnostic::new(
                            Code::E0102,
                            name.span,
                            format!("`{}` is defined twice in this file", name.name),
                            "defined again here",
                        )
                        .label(*first, "first defined here")
                        .help("rename one of them; names of items and imported modules share one namespace"),
                    ),
                    None => {
                        scope.names.insert(name.name, (def, name.span));
                    }
                }
            }
            scope
        })
        .collect();
    Scopes { scopes }
}

/// The name an import binds: its `as` name, or the file stem when that is an identifier.
fn module_name(alias: Option<&Ident>, path: &str, span: Span, diagnostics: &mut Diagnostics) -> Option<Ident> {
    if let Some(alias) = alias {
        return Some(alias.clone());
    }
    let file = path.rsplit('/').next().unwrap_or(path);
    let stem = file.strip_suffix(".rwf").unwrap_or(file);
    let is_ident = stem.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && stem.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if is_ident {
        Some(Ident {
            name: stem.to_owned(),
            span,
        })
    } else {
        diagnostics.push(
            Diagnostic::new(
                Code::E0103,
                span,
                format!("the file stem `{stem}` is not a name, so this import needs `as`"),
                "no module name",
            )
            .help(format!(
                "write `import \"{path}\" as {}`",
                stem.replace(['-', '.'], "_")
            )),
        );
        None
    }
}
