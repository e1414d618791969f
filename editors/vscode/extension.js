// Starts `rwfc lsp` for rwf files; everything else is the language server's.
const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const command = vscode.workspace.getConfiguration("rwf").get("path", "rwfc");
  client = new LanguageClient(
    "rwfc",
    "rwfc",
    { command, args: ["lsp"] },
    { documentSelector: [{ scheme: "file", language: "rwf" }] },
  );
  context.subscriptions.push(client);
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
