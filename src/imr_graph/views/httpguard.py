"""The guard in front of ``imr-graph serve``: Host header check and no federation.

The Oxigraph server neither checks the ``Host`` header nor can it be told not to run
``SERVICE`` (a request to any address the server reaches). So ``serve`` puts this small
HTTP proxy on the address the user binds, and runs Oxigraph behind it on a private loopback
address (a random ``127.x.y.z`` and port), forwarding what passes:

* **Host header.** A request whose ``Host`` is not the server's own name is refused with
  HTTP 403 before anything else happens. Allowed: an IP address literal (a DNS-rebinding
  page always comes with its own domain name), ``localhost``, and the names given with
  ``--allow-host``. So a page that rebinds its name to 127.0.0.1 reads nothing.
* **No outbound requests.** A query (``/query``, or any path, by ``GET ?query=``, a
  ``POST`` form or ``application/sparql-query`` body) that uses ``SERVICE``, and an update
  that uses ``LOAD`` or ``SERVICE``, is refused with HTTP 403 unless the server was started
  with ``--allow-service``; the decision is :func:`imr_graph.graph.sparqlguard.network_operations`
  (by meaning, whatever the spelling).

Everything else (the query UI, results, the Graph Store Protocol) is passed through as is,
with ``Connection: close``.
"""

from __future__ import annotations

import http.client
import http.server
import ipaddress
import socket
import threading
import urllib.parse
from collections.abc import Iterable

from ..graph.sparqlguard import network_operations

MAX_BODY = 256 * 1024 * 1024
"""Largest request body forwarded (a Graph Store ``PUT`` of one case is a few kB)."""

_HOP_HEADERS = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
                "trailers", "transfer-encoding", "upgrade"}
"""Headers that belong to one connection and are not forwarded."""


def host_allowed(header: str | None, allowed: Iterable[str] = ()) -> bool:
    """True when a ``Host`` header names this server: an IP literal, ``localhost`` or one of
    ``allowed`` (names, any port)."""
    if not header:
        return False
    host = header.strip().lower()
    if host.startswith("["):
        name = host[1:host.find("]")] if "]" in host else host
    else:
        name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    if name == "localhost" or name in {a.lower() for a in allowed}:
        return True
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def sparql_texts(method: str, target: str, content_type: str, body: bytes) -> list[str]:
    """Every SPARQL query or update a request carries (URL parameters, form or body)."""
    texts: list[str] = []
    query = urllib.parse.urlsplit(target).query
    for name, values in urllib.parse.parse_qs(query, keep_blank_values=True).items():
        if name in ("query", "update"):
            texts.extend(values)
    ctype = content_type.split(";")[0].strip().lower()
    if method == "POST" and body:
        if ctype == "application/x-www-form-urlencoded":
            form = urllib.parse.parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
            for name in ("query", "update"):
                texts.extend(form.get(name, []))
        elif ctype in ("application/sparql-query", "application/sparql-update"):
            texts.append(body.decode("utf-8", "replace"))
    return texts


class GuardServer(http.server.ThreadingHTTPServer):
    """The listening proxy (see the module docstring); ``upstream`` is Oxigraph's address."""

    daemon_threads = True

    def __init__(self, bind: tuple[str, int], upstream: tuple[str, int], *,
                 allow_service: bool = False, allow_hosts: Iterable[str] = ()) -> None:
        if ":" in bind[0]:
            self.address_family = socket.AF_INET6
        super().__init__(bind, _Handler)
        self.upstream = upstream
        self.allow_service = allow_service
        self.allow_hosts = tuple(allow_hosts)
        self.thread: threading.Thread | None = None

    def start(self) -> GuardServer:
        """Serve in a daemon thread."""
        self.thread = threading.Thread(target=self.serve_forever, name="imr-graph-guard",
                                       daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        """Stop listening (a refused connection from now on)."""
        if self.thread is not None:
            self.shutdown()
            self.thread.join(timeout=10)
            self.thread = None
        self.server_close()


class _Handler(http.server.BaseHTTPRequestHandler):
    server: GuardServer
    protocol_version = "HTTP/1.1"
    server_version = "imr-graph-guard"

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def _refuse(self, code: int, message: str) -> None:
        data = (message + "\n").encode("utf-8")
        self.send_response(code)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        self.close_connection = True

    def _body(self) -> bytes | None:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            parts = []
            total = 0
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(parts)
                total += size
                if total > MAX_BODY:
                    return None
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            return None
        return self.rfile.read(length) if length > 0 else b""

    def _handle(self) -> None:
        if not host_allowed(self.headers.get("Host"), self.server.allow_hosts):
            self._refuse(403, "imr-graph serve: Host header not allowed (a DNS-rebinding "
                         "page?); start the server with --allow-host NAME to serve that name")
            return
        body = self._body()
        if body is None:
            self._refuse(413, "imr-graph serve: request body too large")
            return
        if not self.server.allow_service:
            for text in sparql_texts(self.command, self.path,
                                     self.headers.get("Content-Type", ""), body):
                found = network_operations(text)
                if found:
                    self._refuse(403, f"imr-graph serve: {' and '.join(found)} is disabled "
                                 "(the server makes no outbound requests; start it with "
                                 "--allow-service to allow them)")
                    return
        self._forward(body)

    def _forward(self, body: bytes) -> None:
        host, port = self.server.upstream
        conn = http.client.HTTPConnection(host, port, timeout=None)
        try:
            headers = {k: v for k, v in self.headers.items()
                       if k.lower() not in _HOP_HEADERS | {"host", "content-length"}}
            headers["Host"] = f"{host}:{port}"
            if body or self.command in ("POST", "PUT"):
                headers["Content-Length"] = str(len(body))
            try:
                conn.request(self.command, self.path, body=body or None, headers=headers)
                resp = conn.getresponse()
            except OSError:
                self._refuse(502, "imr-graph serve: the Oxigraph server does not answer")
                return
            self.send_response(resp.status, resp.reason)
            for k, v in resp.getheaders():
                if k.lower() not in _HOP_HEADERS:
                    self.send_header(k, v)
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            if self.command == "HEAD":
                return
            while chunk := resp.read(65536):
                self.wfile.write(chunk)
        finally:
            conn.close()

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_OPTIONS = do_PATCH = _handle
