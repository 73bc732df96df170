"""A minimal LSP client for the tests: `quiesce-check lsp` as a child process, spoken to in
JSON-RPC with Content-Length framing over its standard input and output, as an editor does."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from tests.conftest import ROOT

# Seconds to wait for an answer: the server starts, imports and checks within a few.
TIMEOUT = 60


class Client:
    def __init__(self, *args: str) -> None:
        self.stderr = tempfile.TemporaryFile()  # noqa: SIM115 - kept open while the server runs; kill() closes it
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
        self.proc = subprocess.Popen([sys.executable, "-m", "quiesce_check", "lsp", *args], cwd=ROOT, env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr)
        self.inbox: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.held: list[dict[str, Any]] = []  # notifications read while waiting for something else
        self.next_id = 0
        self.capabilities: dict[str, Any] = {}  # the server's, once initialized
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        out = self.proc.stdout
        assert out is not None
        while True:
            headers = {}
            while True:
                line = out.readline()
                if not line:
                    self.inbox.put(None)
                    return
                if not line.strip():
                    break
                key, _, value = line.decode("ascii").partition(":")
                headers[key.strip().lower()] = value.strip()
            self.inbox.put(json.loads(out.read(int(headers["content-length"]))))

    def send(self, message: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def _next(self, deadline: float) -> dict[str, Any]:
        try:
            message = self.inbox.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            raise AssertionError(f"no answer from the server; its stderr:\n{self.log()}") from None
        if message is None:
            raise AssertionError(f"the server closed its output; its stderr:\n{self.log()}")
        if "method" in message and "id" in message:  # a request of the server's: answered, as editors do
            self.send({"id": message["id"], "result": None})
        return message

    def request(self, method: str, params: Any) -> Any:
        self.next_id += 1
        ident = self.next_id
        self.send({"id": ident, "method": method, "params": params})
        deadline = time.monotonic() + TIMEOUT
        while True:
            message = self._next(deadline)
            if message.get("id") == ident and "method" not in message:
                assert "error" not in message, message["error"]
                return message.get("result")
            if "method" in message:
                self.held.append(message)

    def notify(self, method: str, params: Any) -> None:
        self.send({"method": method, "params": params})

    def notification(self, method: str, test: Any = lambda params: True) -> dict[str, Any]:
        """The params of the first notification `method` (read so far or to come) that passes `test`."""
        deadline = time.monotonic() + TIMEOUT
        while True:
            for k, message in enumerate(self.held):
                if message.get("method") == method and test(message.get("params")):
                    del self.held[k]
                    return message["params"]
            message = self._next(deadline)
            if "method" in message:
                self.held.append(message)

    def initialize(self) -> dict[str, Any]:
        result = self.request("initialize", {"processId": os.getpid(), "rootUri": Path(ROOT).as_uri(),
                                             "capabilities": {}})
        self.notify("initialized", {})
        self.capabilities = result["capabilities"]
        return result

    def close(self) -> int:
        """Shut the server down as an editor does; its exit code."""
        self.request("shutdown", None)
        self.notify("exit", None)
        try:
            return self.proc.wait(timeout=TIMEOUT)
        finally:
            self.kill()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                stream.close()
        self.stderr.close()

    def log(self) -> str:
        self.stderr.seek(0)
        return self.stderr.read().decode(errors="replace")[-4000:]
