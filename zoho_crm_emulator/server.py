"""The socket side: a threaded HTTP/1.1 keep-alive server that feeds requests to the Application."""

from __future__ import annotations

import contextlib
import socket
import socketserver
import sys
import threading
from collections.abc import Callable
from email.utils import formatdate
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .app import Application
from .protocol import Response

_REASONS = {s.value: s.phrase for s in HTTPStatus}


class _DateCache:
    """`Date` header value in Zoho's clock (`clock_offset_seconds`), formatted at most once per second."""

    def __init__(self, now: Callable[[], int]) -> None:
        self.now = now
        self.second = -1
        self.value = ""

    def get(self) -> str:
        now = self.now()
        if now != self.second:
            self.second, self.value = now, formatdate(now, usegmt=True)
        return self.value


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ZGS"
    sys_version = ""
    disable_nagle_algorithm = True  # one write per response, sent at once
    timeout = 300  # idle keep-alive connections are closed after this
    server: EmulatorServer

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET  # noqa: N815

    def _serve(self) -> None:
        body = self._read_body()
        headers = {k.lower(): v for k, v in self.headers.items()}
        outcome = self.server.app.handle(self.command, self.path, headers, body)
        if outcome.action == "drop" or outcome.response is None:
            self.close_connection = True
            return
        self._write(outcome.response, truncate=outcome.action == "truncate")

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _write(self, response: Response, truncate: bool = False) -> None:
        status = response.status
        body = b"" if status in (204, 304) else response.body
        lines = [
            f"HTTP/1.1 {status} {_REASONS.get(status, 'Unknown')}",
            "Server: ZGS",
            f"Date: {self.server.dates.get()}",
        ]
        if response.content_type and status not in (204, 304):
            lines.append(f"Content-Type: {response.content_type}")
        if status not in (204, 304):
            lines.append(f"Content-Length: {len(body)}")
        for name, value in response.headers.items():
            lines.append(f"{name}: {value}")
        if truncate:
            self.close_connection = True
        lines.append("Connection: close" if self.close_connection else "Connection: keep-alive")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        if truncate:
            self.wfile.write(head + body[: len(body) // 2])
        else:
            self.wfile.write(head + body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's signature
        pass


class EmulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], app: Application):
        self.app = app
        self.dates = _DateCache(app.state.clock.now)
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host's FQDN, which can stall without a network.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        self.app.stats.connection_opened()
        super().process_request(request, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client hanging up mid-exchange (or stop() closing idle connections) deserves no traceback.
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Close idle keep-alive connections so no handler thread serves after stop()."""
        with self._connections_lock:
            connections = list(self._connections)
        for sock in connections:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
