"""A tiny HTTP proxy on loopback for tests: it forwards every request to a target (the BigQuery
emulator) and answers the first `times` requests that match a `Fault` with an error of its own,
as a real API does now and then (503 backendError, 500 internalError), so tests can check
what the client retries and what it does not."""

from __future__ import annotations

import http.client
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

#: hop-by-hop headers a proxy does not pass on (the body is re-sent with its length)
HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


@dataclass
class Fault:
    """Answer the first `times` requests with this method whose path matches `path` with
    `status`, a Google API error body whose reason is `reason`. With `fail_job`, the request
    goes through instead, and the job resource it answers says the job failed for `reason`
    (a job that failed on the backend: only running it again helps)."""

    method: str
    path: str
    status: int = 503
    reason: str = "backendError"
    times: int = 1
    fail_job: bool = False
    used: int = 0

    def matches(self, method: str, path: str) -> bool:
        return method == self.method and re.search(self.path, path) is not None

    def body(self) -> bytes:
        error = {"reason": self.reason, "message": f"injected {self.status} ({self.reason})"}
        return json.dumps(
            {"error": {"code": self.status, "message": error["message"], "errors": [error]}}
        ).encode()

    def failed_job(self, body: bytes) -> bytes:
        """The job resource in `body`, done with an error for `reason`."""
        job = json.loads(body)
        error = {"reason": self.reason, "message": f"injected job failure ({self.reason})"}
        job["status"] = {"state": "DONE", "errorResult": error, "errors": [error]}
        return json.dumps(job).encode()


@dataclass
class Proxy:
    """What the proxy saw: (method, path, status answered) per request, in order."""

    url: str
    faults: list[Fault]
    seen: list[tuple[str, str, int]] = field(default_factory=list)

    def count(self, method: str, path: str) -> int:
        return sum(1 for m, p, _ in self.seen if m == method and re.search(path, p))


@contextmanager
def flaky_proxy(target: str, faults: list[Fault]) -> Iterator[Proxy]:
    """A proxy to `target` (http://host:port) on a free loopback port while the block runs."""
    parts = urlsplit(target)
    lock = threading.Lock()
    proxy = Proxy("", faults)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def _answer(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
            self.send_response(status)
            for name, value in headers:
                if name.lower() not in HOP:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            with lock:
                fault = next(
                    (
                        f
                        for f in proxy.faults
                        if f.used < f.times and f.matches(self.command, self.path)
                    ),
                    None,
                )
                if fault:
                    fault.used += 1
            if fault and not fault.fail_job:
                proxy.seen.append((self.command, self.path, fault.status))
                self._answer(fault.status, [("Content-Type", "application/json")], fault.body())
                return
            upstream = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
            try:
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
                upstream.request(self.command, self.path, body=body, headers=headers)
                response = upstream.getresponse()
                data = response.read()
                if fault and response.status == 200:
                    data = fault.failed_job(data)
                proxy.seen.append((self.command, self.path, response.status))
                self._answer(response.status, response.getheaders(), data)
            finally:
                upstream.close()

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _forward

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    proxy.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
