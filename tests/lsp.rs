//! `rwfc lsp` in process: a client and the server over `Connection::memory()`, exchanging the
//! messages an editor would.

mod support;

use lsp_server::{Connection, Message, Notification, Request, RequestId, Response};
use serde_json::{json, Value};

struct Client {
    connection: Connection,
    server: Option<std::thread::JoinHandle<Result<(), String>>>,
    next_id: i32,
    uri: String,
    dir: tempfile::TempDir,
}

impl Client {
    /// A server, initialized, and the URI of a document `main.rwf` in a fresh folder.
    fn start() -> Client {
        let (server, connection) = Connection::memory();
        let server = std::thread::spawn(move || rwfc::lsp::serve(&server, Box::new(support::Disk)));
        let dir = tempfile::tempdir().expect("temp dir");
        let uri = format!("file://{}/main.rwf", dir.path().display());
        let mut client = Client {
            connection,
            server: Some(server),
            next_id: 0,
            uri,
            dir,
        };
        let capabilities = client.request("initialize", json!({ "capabilities": {} }));
        assert_eq!(capabilities["capabilities"]["documentFormattingProvider"], json!(true));
        client.notify("initialized", json!({}));
        client
    }

    fn notify(&self, method: &str, params: Value) {
        let message = Message::Notification(Notification::new(method.to_owned(), params));
        self.connection.sender.send(message).expect("server listening");
    }

    fn response(&mut self, method: &str, params: Value) -> Response {
        self.next_id += 1;
        let id = RequestId::from(self.next_id);
        let request = Request::new(id.clone(), method.to_owned(), params);
        self.connection.sender.send(request.into()).expect("server listening");
        loop {
            match self.connection.receiver.recv().expect("a reply") {
                Message::Response(response) if response.id == id => return response,
                _ => continue,
            }
        }
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        let response = self.response(method, params);
        assert!(response.error.is_none(), "{method}: {:?}", response.error);
        response.result.unwrap_or_default()
    }

    /// Opens (first time) or replaces the document, and returns the diagnostics published.
    fn edit(&self, version: i32, text: &str) -> Vec<Value> {
        if version == 1 {
            let document = json!({ "uri": self.uri, "languageId": "rwf", "version": 1, "text": text });
            self.notify("textDocument/didOpen", json!({ "textDocument": document }));
        } else {
            let document = json!({ "uri": self.uri, "version": version });
            let changes = json!([{ "text": text }]);
            self.notify(
                "textDocument/didChange",
                json!({ "textDocument": document, "contentChanges": changes }),
            );
        }
        loop {
            if let Message::Notification(n) = self.connection.receiver.recv().expect("diagnostics") {
                assert_eq!(n.method, "textDocument/publishDiagnostics");
                return n.params["diagnostics"].as_array().cloned().unwrap_or_default();
            }
        }
    }

    fn at(&self, line: u32, character: u32) -> Value {
        json!({ "textDocument": { "uri": self.uri }, "position": { "line": line, "character": character } })
    }

    fn stop(mut self) {
        self.request("shutdown", Value::Null);
        self.notify("exit", Value::Null);
        let server = self.server.take().expect("running");
        assert_eq!(server.join().expect("no panic"), Ok(()));
    }
}

#[test]
fn diagnostics_underline_the_right_utf16_characters() {
    let client = Client::start();
    let line = "const A = \"é😀\" + nope";
    let diagnostics = client.edit(1, &format!("// x\n{line}\n"));
    assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
    let start = line.find("nope").expect("nope");
    let units = line[..start].encode_utf16().count();
    assert_eq!(
        diagnostics[0]["range"]["start"],
        json!({ "line": 1, "character": units })
    );
    assert_eq!(
        diagnostics[0]["range"]["end"],
        json!({ "line": 1, "character": units + 4 })
    );
    assert_eq!(diagnostics[0]["source"], json!("rwfc"));
    assert!(diagnostics[0]["code"].as_str().is_some_and(|c| c.starts_with('E')));
    client.stop();
}

#[test]
fn a_document_broken_mid_edit_is_reported_and_the_server_goes_on() {
    let mut client = Client::start();
    assert_eq!(client.edit(1, "const A = 1\n"), Vec::<Value>::new());
    let broken = client.edit(2, "const A = 1\ntask t(n: int {\n");
    assert_eq!(broken.len(), 1);
    assert_eq!(broken[0]["code"], json!("E0001"));
    assert_eq!(broken[0]["range"]["start"]["line"], json!(1));
    // Requests on the broken text answer without a result, not an error.
    let formatting = client.request(
        "textDocument/formatting",
        json!({ "textDocument": { "uri": client.uri }, "options": { "tabSize": 2, "insertSpaces": true } }),
    );
    assert_eq!(formatting, json!([]));
    assert_eq!(client.request("textDocument/hover", client.at(1, 8)), Value::Null);
    let symbols = client.request(
        "textDocument/documentSymbol",
        json!({ "textDocument": { "uri": client.uri } }),
    );
    assert_eq!(symbols, json!([]));
    let fixed =
        "const A = 1\ntask t(n: int) { image = \"x\", entrypoint = \"e ${n}\", requests { cpu = 1, mem = 1Gi } }\n";
    assert_eq!(client.edit(3, fixed), Vec::<Value>::new());
    client.stop();
}

#[test]
fn formatting_symbols_hover_and_definition() {
    let mut client = Client::start();
    let text = concat!(
        "/// The image.\n",
        "const IMAGE=\"x\"\n",
        "task t(n: int) -> int { image = IMAGE, entrypoint = \"e ${n}\", requests { cpu = 1, mem = 1Gi } }\n",
        "workflow w() -> int {\n",
        "  storage = \"s3://b/p\"\n",
        "  let a = t(n = 1)\n",
        "  return a\n",
        "}\n",
    );
    let column = |line: usize, needle: &str| {
        text.lines()
            .nth(line)
            .and_then(|l| l.find(needle))
            .expect("in the text") as u32
    };
    assert_eq!(client.edit(1, text), Vec::<Value>::new());
    let edits = client.request(
        "textDocument/formatting",
        json!({ "textDocument": { "uri": client.uri }, "options": { "tabSize": 2, "insertSpaces": true } }),
    );
    let expected = rwfc::format::format(text).expect("formats");
    assert_eq!(edits[0]["newText"], json!(expected));
    assert_eq!(edits[0]["range"]["end"], json!({ "line": 8, "character": 0 }));

    let symbols = client.request(
        "textDocument/documentSymbol",
        json!({ "textDocument": { "uri": client.uri } }),
    );
    let names: Vec<&str> = symbols
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert_eq!(names, ["IMAGE", "t", "w"]);
    assert_eq!(symbols[2]["children"][0]["name"], json!("a"));

    // `IMAGE` in the task's body: the constant, with its doc comment.
    let hover = client.request("textDocument/hover", client.at(2, column(2, "IMAGE,") + 2));
    let value = hover["contents"]["value"].as_str().expect("markdown");
    assert!(
        value.contains("const IMAGE=\"x\"") && value.contains("The image."),
        "{value}"
    );
    // `n` in the entrypoint: the parameter.
    let hover = client.request("textDocument/hover", client.at(2, column(2, "n}")));
    assert_eq!(hover["contents"]["value"], json!("```rwf\nn: int\n```"));
    // A configuration field: its type.
    let hover = client.request("textDocument/hover", client.at(2, column(2, "requests") + 1));
    assert_eq!(hover["contents"]["value"], json!("```rwf\nrequests: resources\n```"));
    // `a` after `return`: the `let`, with the output type of the task it calls.
    let hover = client.request("textDocument/hover", client.at(6, 9));
    assert_eq!(hover["contents"]["value"], json!("```rwf\nlet a: int\n```"));
    let definition = client.request("textDocument/definition", client.at(6, 9));
    assert_eq!(definition["range"]["start"], json!({ "line": 5, "character": 6 }));
    client.stop();
}

#[test]
fn malformed_and_unknown_requests_get_errors_not_a_crash() {
    let mut client = Client::start();
    let response = client.response("textDocument/hover", json!({ "textDocument": 5 }));
    assert_eq!(
        response.error.map(|e| e.code),
        Some(lsp_server::ErrorCode::InvalidParams as i32)
    );
    let response = client.response("textDocument/rename", json!({}));
    assert_eq!(
        response.error.map(|e| e.code),
        Some(lsp_server::ErrorCode::MethodNotFound as i32)
    );
    // A notification with bad parameters is ignored.
    client.notify("textDocument/didOpen", json!({ "textDocument": "nope" }));
    assert_eq!(client.request("textDocument/hover", client.at(0, 0)), Value::Null);
    client.stop();
}

#[test]
fn completion_offers_the_fields_of_the_block_or_the_names_in_scope() {
    let mut client = Client::start();
    let text = "const IMAGE = \"x\"\ntask t(n: int) {\n  image = IMAGE\n  requests {\n    c\n  }\n}\n";
    client.edit(1, text);
    let labels = |items: Value| -> Vec<String> {
        let items = items.as_array().cloned().unwrap_or_default();
        items
            .iter()
            .filter_map(|i| i["label"].as_str().map(str::to_owned))
            .collect()
    };
    // Mid-edit (`c` is no field yet): the fields of `requests`, with their types.
    let items = client.request("textDocument/completion", client.at(4, 5));
    assert!(labels(items.clone()).contains(&"cpu".to_owned()), "{items}");
    assert!(!labels(items.clone()).contains(&"image".to_owned()), "{items}");
    client.edit(2, &text.replace("    c\n", "    cpu = 1\n"));
    // In a task's body: the task's fields.
    let items = client.request("textDocument/completion", client.at(2, 2));
    assert!(labels(items).contains(&"entrypoint".to_owned()));
    // In a value: the constant and the parameter.
    let items = client.request("textDocument/completion", client.at(2, 12));
    let names = labels(items);
    assert!(
        names.contains(&"IMAGE".to_owned()) && names.contains(&"n".to_owned()),
        "{names:?}"
    );
    client.stop();
}

#[test]
fn hover_and_definition_reach_into_imports_and_the_standard_library() {
    let mut client = Client::start();
    let common = client.dir.path().join("common.rwf");
    std::fs::write(&common, "const OTHER = 1\n/// The shared image.\nconst IMAGE = \"x\"\n").expect("written");
    let text = concat!(
        "import \"./common.rwf\"\n",
        "import \"std/gpu\"\n",
        "const A = common.IMAGE\n",
        "const B: pod = gpu.any_node\n",
    );
    assert_eq!(client.edit(1, text), Vec::<Value>::new());
    let hover = client.request("textDocument/hover", client.at(2, 18));
    let value = hover["contents"]["value"].as_str().expect("markdown");
    assert!(
        value.contains("const IMAGE = \"x\"") && value.contains("The shared image."),
        "{value}"
    );
    let definition = client.request("textDocument/definition", client.at(2, 18));
    assert!(
        definition["uri"].as_str().is_some_and(|u| u.ends_with("/common.rwf")),
        "{definition}"
    );
    assert_eq!(definition["range"]["start"], json!({ "line": 2, "character": 6 }));
    let hover = client.request("textDocument/hover", client.at(3, 20));
    let value = hover["contents"]["value"].as_str().expect("markdown");
    assert!(value.contains("any_node") && value.contains("NVIDIA"), "{value}");
    client.stop();
}

#[test]
fn an_unsaved_edit_of_an_imported_file_rechecks_the_files_that_import_it() {
    let client = Client::start();
    let common_uri = client.uri.replace("main.rwf", "common.rwf");
    // `common.rwf` exists only as an open buffer.
    let open = |uri: &str, text: &str| {
        let document = json!({ "uri": uri, "languageId": "rwf", "version": 1, "text": text });
        client.notify("textDocument/didOpen", json!({ "textDocument": document }));
    };
    open(&common_uri, "const IMAGE = \"x\"\n");
    let published = |count: usize| -> Vec<(String, Vec<Value>)> {
        (0..count)
            .map(|_| loop {
                if let Message::Notification(n) = client.connection.receiver.recv().expect("diagnostics") {
                    let uri = n.params["uri"].as_str().unwrap_or_default().to_owned();
                    break (uri, n.params["diagnostics"].as_array().cloned().unwrap_or_default());
                }
            })
            .collect()
    };
    assert_eq!(published(1), [(common_uri.clone(), Vec::new())]);
    open(&client.uri, "import \"./common.rwf\"\nconst A = common.IMAGE\n");
    assert!(published(2).iter().all(|(_, diagnostics)| diagnostics.is_empty()));
    let change = json!({ "textDocument": { "uri": common_uri, "version": 2 }, "contentChanges": [{ "text": "const IMAGE = nope\n" }] });
    client.notify("textDocument/didChange", change);
    let after = published(2);
    let main = after
        .iter()
        .find(|(uri, _)| *uri == client.uri)
        .expect("main rechecked");
    assert_eq!(main.1.len(), 1, "{main:?}");
    assert!(
        main.1[0]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("in common.rwf: ")),
        "{main:?}"
    );
    client.stop();
}

#[test]
fn completion_in_an_override_label_offers_the_worker_groups_of_the_called_task() {
    let mut client = Client::start();
    let text = concat!(
        "cluster base { worker \"cpu\" { replicas = 1 } }\n",
        "task t() { image = \"i\", entrypoint = \"e\", ray = base { worker \"gpu\" { replicas = 1 } } }\n",
        "workflow w() {\n",
        "  let a = t() with {\n",
        "    ray { worker \"\" { replicas = 2 } }\n",
        "  }\n",
        "}\n",
    );
    client.edit(1, text);
    let items = client.request("textDocument/completion", client.at(4, 18));
    let labels: Vec<&str> = items
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["label"].as_str())
        .collect();
    assert_eq!(labels, ["cpu", "gpu"]);
    client.stop();
}
