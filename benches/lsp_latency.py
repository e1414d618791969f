#!/usr/bin/env python3
"""Time from a change notification to the diagnostics `rwfc lsp` publishes for it.

Drives a real `rwfc lsp` over stdio, as an editor does: opens a generated file of N tasks
(tools/generate.rs), then sends RUNS changes (each a whole new text, alternating a clean one and
one with an error) and measures, for each, the wall time from writing `didChange` to reading
the `publishDiagnostics` of that version. Prints the median and the slowest, with the machine.

    benches/lsp_latency.py target/release/rwfc 1000
"""

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

RUNS = int(os.environ.get("RUNS", "21"))


def send(proc, message):
    body = json.dumps(message).encode()
    proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    proc.stdin.flush()


def receive(proc):
    length = 0
    while True:
        line = proc.stdout.readline()
        if not line:
            raise EOFError("the server closed its output")
        if line in (b"\r\n", b"\n"):
            break
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    return json.loads(proc.stdout.read(length))


def diagnostics_of(proc, uri, version):
    """Reads messages until the diagnostics of `version` of `uri` arrive."""
    while True:
        message = receive(proc)
        if message.get("method") == "textDocument/publishDiagnostics":
            params = message["params"]
            if params["uri"] == uri and params.get("version", version) == version:
                return params["diagnostics"]


def main():
    rwfc, tasks = sys.argv[1], int(sys.argv[2])
    with tempfile.TemporaryDirectory() as work:
        path = os.path.join(work, "big.rwf")
        subprocess.run(
            ["cargo", "run", "--quiet", "--release", "--example", "generate", "--", str(tasks), path],
            check=True,
        )
        text = open(path).read()
        broken = text + "\nconst BROKEN: int = \"not an int\"\n"
        uri = "file://" + path
        proc = subprocess.Popen([rwfc, "lsp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        send(proc, {"jsonrpc": "2.0", "id": 1, "method": "initialize",
                    "params": {"processId": None, "rootUri": "file://" + work, "capabilities": {}}})
        while receive(proc).get("id") != 1:
            pass
        send(proc, {"jsonrpc": "2.0", "method": "initialized", "params": {}})
        send(proc, {"jsonrpc": "2.0", "method": "textDocument/didOpen",
                    "params": {"textDocument": {"uri": uri, "languageId": "rwf", "version": 1, "text": text}}})
        diagnostics_of(proc, uri, 1)
        times = []
        for run in range(RUNS):
            version = run + 2
            new_text = broken if run % 2 == 0 else text
            start = time.perf_counter()
            send(proc, {"jsonrpc": "2.0", "method": "textDocument/didChange",
                        "params": {"textDocument": {"uri": uri, "version": version},
                                   "contentChanges": [{"text": new_text}]}})
            found = diagnostics_of(proc, uri, version)
            times.append(time.perf_counter() - start)
            errors = [d for d in found if d.get("severity") == 1]
            assert (len(errors) > 0) == (run % 2 == 0), errors
        send(proc, {"jsonrpc": "2.0", "id": 2, "method": "shutdown", "params": None})
        send(proc, {"jsonrpc": "2.0", "method": "exit", "params": None})
        proc.wait(timeout=10)
    machine = f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()}"
    print(f"{tasks} tasks, {RUNS} changes on {machine}: change to diagnostics median "
          f"{statistics.median(times) * 1000:.0f} ms, slowest {max(times) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
