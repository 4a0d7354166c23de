"""The local server of `python -m app open`: the page, its static files, and the traces it was given.

Only on 127.0.0.1, on a free port. `GET /?trace=/api/traces/<n>` opens the page on trace n
(`static/js/main.js` fetches the URL given in `?trace=`); `GET /api/traces/<n>` is that trace with
its source (`{"trace": ..., "source": ..., "title": ...}`); `GET /static/...` the page's files.
Nothing here runs code: the trace was recorded before the server started.
"""

from __future__ import annotations

import mimetypes
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from app.local import page

_TYPES = {".js": "text/javascript", ".css": "text/css", ".json": "application/json", ".svg": "image/svg+xml"}


class LocalServer:
    """`LocalServer({"1": payload_json}).start()` serves until `stop()`; `url_of("1")` opens trace 1."""

    def __init__(self, traces: dict[str, str], host: str = "127.0.0.1", port: int = 0):
        self.traces = traces
        handler = type("Handler", (_Handler,), {"traces": traces})
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def url_of(self, key: str) -> str:
        return f"{self.base_url}/?trace=/api/traces/{key}"

    def start(self) -> "LocalServer":
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="grafo-local", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self.httpd.serve_forever()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class _Handler(BaseHTTPRequestHandler):
    traces: dict[str, str] = {}

    def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
        path = urlsplit(self.path).path
        if path == "/":
            return self._send(page.index_html().encode("utf-8"), "text/html; charset=utf-8")
        if path.startswith("/api/traces/") and path.removeprefix("/api/traces/") in self.traces:
            return self._send(self.traces[path.removeprefix("/api/traces/")].encode("utf-8"), "application/json")
        if path.startswith("/static/"):
            static = (page.web_root() / "static").resolve()
            target = (static / path.removeprefix("/static/")).resolve()
            if target.is_relative_to(static) and target.is_file():
                kind = _TYPES.get(target.suffix) or mimetypes.guess_type(target.name)[0] or "application/octet-stream"
                return self._send(target.read_bytes(), kind)
        self.send_error(HTTPStatus.NOT_FOUND)

    def _send(self, body: bytes, content_type: str) -> None:
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args) -> None:  # noqa: A002 - quiet: the terminal is the script's
        pass
