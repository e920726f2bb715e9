"""A real HTTP server on 127.0.0.1 for the fetching tests: the tests write what it answers.

`http.server` in a daemon thread; `route` maps a path to a function of the request that returns
(status, headers, body). Every request is recorded, so tests can check what was asked and when.
Nothing here touches the internet.
"""

from __future__ import annotations

import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Request:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    at: float


Answer = tuple[int, dict[str, str], bytes]


@dataclass
class LocalServer:
    routes: dict[str, Callable[[Request], Answer]] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)

    def start(self) -> LocalServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                parts = urllib.parse.urlsplit(self.path)
                req = Request(
                    parts.path,
                    dict(urllib.parse.parse_qsl(parts.query)),
                    {k.lower(): v for k, v in self.headers.items()},
                    time.monotonic(),
                )
                server.requests.append(req)
                answer = server.answer(req)
                status, headers, body = answer
                try:
                    self.send_response(status)
                    for key, value in headers.items():
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def answer(self, req: Request) -> Answer:
        for prefix, func in sorted(self.routes.items(), key=lambda kv: -len(kv[0])):
            if req.path == prefix or (prefix.endswith("/") and req.path.startswith(prefix)):
                return func(req)
        return 404, {"Content-Type": "text/plain"}, b"not here"

    @property
    def base(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def page(body: str | bytes, content_type: str = "text/html; charset=utf-8", status: int = 200):
    """A route answering the same body every time."""
    data = body.encode("utf-8") if isinstance(body, str) else body
    return lambda req: (status, {"Content-Type": content_type}, data)
