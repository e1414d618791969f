//! `rwfc lsp`'s decisions: given the open documents and a message from the editor, the messages
//! to send back. The binary only moves messages between stdio and [`serve`].
//!
//! Documents are synchronised whole. Diagnostics come from [`crate::check`] over a file system
//! where open buffers replace the files on disk, so an unsaved edit of an imported file counts.

mod complete;
mod features;
mod position;

pub use position::LineIndex;

use crate::ast;
use crate::diagnostics::Severity;
use crate::load::FileSystem;
use crate::source::Origin;
use lsp_server::{Connection, ErrorCode, Message, Notification, Request, Response};
use lsp_types::notification::Notification as _;
use lsp_types::request::Request as _;
use lsp_types::{notification, request, Uri};
use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

/// What the server offers, in the `initialize` answer.
pub fn capabilities() -> lsp_types::ServerCapabilities {
    lsp_types::ServerCapabilities {
        text_document_sync: Some(lsp_types::TextDocumentSyncKind::FULL.into()),
        document_formatting_provider: Some(lsp_types::OneOf::Left(true)),
        document_symbol_provider: Some(lsp_types::OneOf::Left(true)),
        hover_provider: Some(true.into()),
        definition_provider: Some(lsp_types::OneOf::Left(true)),
        completion_provider: Some(lsp_types::CompletionOptions::default()),
        ..Default::default()
    }
}

/// Answers `initialize`, then every message of `connection` until the editor shuts it down.
pub fn serve(connection: &Connection, fs: Box<dyn FileSystem>) -> Result<(), String> {
    let capabilities = serde_json::to_value(capabilities()).map_err(|e| e.to_string())?;
    connection.initialize(capabilities).map_err(|e| e.to_string())?;
    let mut server = Server::new(fs);
    for message in &connection.receiver {
        if let Message::Request(request) = &message {
            if connection.handle_shutdown(request).map_err(|e| e.to_string())? {
                return Ok(());
            }
        }
        for reply in server.handle(message) {
            connection.sender.send(reply).map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}

/// An open document: the editor's URI for it and its text.
struct Document {
    uri: Uri,
    text: String,
}

/// The open documents, by path, and the file system under them.
pub struct Server {
    documents: BTreeMap<PathBuf, Document>,
    disk: Box<dyn FileSystem>,
}

impl FileSystem for Server {
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        match self.documents.get(path) {
            Some(document) => Ok(document.text.clone().into_bytes()),
            None => self.disk.read(path),
        }
    }

    fn canonicalize(&self, path: &Path) -> io::Result<PathBuf> {
        match self.disk.canonicalize(path) {
            Err(_) if self.documents.contains_key(path) => Ok(path.to_path_buf()),
            result => result,
        }
    }
}

impl Server {
    pub fn new(disk: Box<dyn FileSystem>) -> Self {
        Server {
            documents: BTreeMap::new(),
            disk,
        }
    }

    /// The messages to send in answer to `message`.
    pub fn handle(&mut self, message: Message) -> Vec<Message> {
        match message {
            Message::Request(request) => vec![Message::Response(self.request(request))],
            Message::Notification(notification) => self.notification(notification),
            Message::Response(_) => Vec::new(),
        }
    }

    fn notification(&mut self, notification: Notification) -> Vec<Message> {
        let changed = match notification.method.as_str() {
            notification::DidOpenTextDocument::METHOD => {
                params::<notification::DidOpenTextDocument>(notification.params)
                    .map(|p| (p.text_document.uri, Some(p.text_document.text)))
            }
            notification::DidChangeTextDocument::METHOD => {
                params::<notification::DidChangeTextDocument>(notification.params).and_then(|mut p| {
                    // Whole-document sync: the last change is the new text.
                    let text = p.content_changes.pop()?.text;
                    Some((p.text_document.uri, Some(text)))
                })
            }
            notification::DidCloseTextDocument::METHOD => {
                params::<notification::DidCloseTextDocument>(notification.params).map(|p| (p.text_document.uri, None))
            }
            _ => None,
        };
        let Some((uri, text)) = changed else {
            return Vec::new();
        };
        let Some(path) = uri_path(&uri) else {
            return Vec::new();
        };
        let mut published = Vec::new();
        match text {
            Some(text) => {
                self.documents.insert(path, Document { uri, text });
            }
            None => {
                self.documents.remove(&path);
                published.push(publish(uri, Vec::new()));
            }
        }
        // Every open document: one may import the one that changed.
        for (path, document) in &self.documents {
            published.push(publish(document.uri.clone(), self.diagnostics(path)));
        }
        published
    }

    fn request(&mut self, request: Request) -> Response {
        let id = request.id.clone();
        let result = match request.method.as_str() {
            request::Formatting::METHOD => self.answer::<request::Formatting>(request, |s, p| {
                s.document(&p.text_document.uri).map(features::formatting)
            }),
            request::DocumentSymbolRequest::METHOD => self.answer::<request::DocumentSymbolRequest>(request, |s, p| {
                s.document(&p.text_document.uri).map(features::symbols)
            }),
            request::HoverRequest::METHOD => self.answer::<request::HoverRequest>(request, |s, p| {
                let at = &p.text_document_position_params;
                let text = s.document(&at.text_document.uri)?;
                let path = uri_path(&at.text_document.uri)?;
                features::hover(text, at.position, &|module| s.module(&path, text, module))
            }),
            request::GotoDefinition::METHOD => self.answer::<request::GotoDefinition>(request, |s, p| {
                let at = &p.text_document_position_params;
                let uri = at.text_document.uri.clone();
                let text = s.document(&uri)?;
                let path = uri_path(&uri)?;
                features::definition(text, at.position, uri, &|module| s.module(&path, text, module))
            }),
            request::Completion::METHOD => self.answer::<request::Completion>(request, |s, p| {
                let at = &p.text_document_position;
                s.document(&at.text_document.uri)
                    .and_then(|text| complete::completion(text, at.position))
            }),
            _ => Err((
                ErrorCode::MethodNotFound,
                format!("`{}` is not supported", request.method),
            )),
        };
        match result {
            Ok(value) => Response::new_ok(id, value),
            Err((code, message)) => Response::new_err(id, code as i32, message),
        }
    }

    /// Decodes the parameters of `request` as `R`'s and answers them with `answer` (`null` for
    /// a document that is not open); parameters that do not decode are an error response.
    fn answer<R: lsp_types::request::Request>(
        &self,
        request: Request,
        answer: impl FnOnce(&Self, R::Params) -> R::Result,
    ) -> Result<serde_json::Value, (ErrorCode, String)> {
        let params = serde_json::from_value::<R::Params>(request.params)
            .map_err(|error| (ErrorCode::InvalidParams, error.to_string()))?;
        Ok(serde_json::to_value(answer(self, params)).unwrap_or_default())
    }

    /// The module `name` of the document at `path`: an import of it, by `as` name or file stem,
    /// read from the open buffers, the disk or the standard library.
    fn module(&self, path: &Path, text: &str, name: &str) -> Option<features::Module> {
        let file = crate::syntax::parse(crate::format::FILE, text, &mut Default::default())?;
        let import = file.items.iter().find_map(|item| match &item.kind {
            ast::ItemKind::Import(import) => {
                let stem = import.path.value.rsplit('/').next()?.trim_end_matches(".rwf");
                let named = import.alias.as_ref().map_or(stem, |alias| alias.name.as_str());
                (named == name).then_some(import)
            }
            _ => None,
        })?;
        if let Some(module) = import.path.value.strip_prefix("std/") {
            let text = crate::stdlib::source(module)?.to_owned();
            return Some(features::Module { path: None, text });
        }
        // Without `./`, so an open buffer of the file is found by its path.
        let imported: PathBuf = path.parent()?.join(&import.path.value).components().collect();
        let text = String::from_utf8(self.read(&imported).ok()?).ok()?;
        Some(features::Module {
            path: Some(imported),
            text,
        })
    }

    fn document(&self, uri: &Uri) -> Option<&str> {
        self.documents.get(&uri_path(uri)?).map(|d| d.text.as_str())
    }

    /// The diagnostics of the open document `path`, as the command line reports them; those in
    /// other files (an import that fails) are shown at its start, naming their file.
    fn diagnostics(&self, path: &Path) -> Vec<lsp_types::Diagnostic> {
        let (Some(root), Some(main), Some(text)) = (
            path.parent(),
            path.file_name().and_then(|n| n.to_str()),
            self.documents.get(path).map(|d| &d.text),
        ) else {
            return Vec::new();
        };
        let checked = crate::check(self, root, main, text.as_bytes());
        let main_id = checked.sources.find(&Origin::User(main.to_owned()));
        let index = LineIndex::new(text);
        checked
            .diagnostics
            .iter()
            .map(|d| {
                let primary = d.primary.as_ref();
                let here = primary.filter(|label| Some(label.span.file) == main_id);
                let range = here.map_or_else(lsp_types::Range::default, |label| {
                    index.range(label.span.start as usize, label.span.end as usize)
                });
                let elsewhere = primary
                    .filter(|_| here.is_none())
                    .and_then(|label| checked.sources.file(label.span.file))
                    .map(|file| format!("in {}: ", file.name()))
                    .unwrap_or_default();
                let mut message = format!("{elsewhere}{}", d.message);
                if let Some(help) = &d.help {
                    message.push_str(&format!("\nhelp: {help}"));
                }
                lsp_types::Diagnostic {
                    range,
                    severity: Some(match d.severity() {
                        Severity::Error => lsp_types::DiagnosticSeverity::ERROR,
                        Severity::Warning => lsp_types::DiagnosticSeverity::WARNING,
                    }),
                    code: Some(lsp_types::NumberOrString::String(d.code.as_str().to_owned())),
                    source: Some("rwfc".to_owned()),
                    message,
                    ..Default::default()
                }
            })
            .collect()
    }
}

fn publish(uri: Uri, diagnostics: Vec<lsp_types::Diagnostic>) -> Message {
    let params = lsp_types::PublishDiagnosticsParams::new(uri, diagnostics, None);
    Message::Notification(Notification::new(
        notification::PublishDiagnostics::METHOD.to_owned(),
        params,
    ))
}

fn params<N: lsp_types::notification::Notification>(value: serde_json::Value) -> Option<N::Params> {
    serde_json::from_value(value).ok()
}

/// The path of a `file:` URI, its `%XX` escapes decoded.
fn uri_path(uri: &Uri) -> Option<PathBuf> {
    let rest = uri.as_str().strip_prefix("file://")?;
    let mut bytes = Vec::with_capacity(rest.len());
    let mut input = rest.bytes();
    while let Some(byte) = input.next() {
        if byte == b'%' {
            let hex = [input.next()?, input.next()?];
            bytes.push(u8::from_str_radix(std::str::from_utf8(&hex).ok()?, 16).ok()?);
        } else {
            bytes.push(byte);
        }
    }
    Some(PathBuf::from(String::from_utf8(bytes).ok()?))
}

/// The `file:` URI of `path`, with the bytes URIs do not allow as `%XX`.
fn path_uri(path: &Path) -> Option<Uri> {
    let mut uri = String::from("file://");
    for byte in path.to_str()?.bytes() {
        if byte.is_ascii_alphanumeric() || b"/-._~".contains(&byte) {
            uri.push(byte as char);
        } else {
            uri.push_str(&format!("%{byte:02X}"));
        }
    }
    uri.parse().ok()
}
