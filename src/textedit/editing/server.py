"""The local web demo of ``textedit serve``: upload an image, type a description, see the
edit, its edit map (when the model has one) and its explanation figure.

Standard library only (:class:`http.server.ThreadingHTTPServer`). Routes::

    GET  /              the page            GET /app.js    its script
    GET  /api/info      model name, resolution, upload limit (JSON)
    POST /api/edit?text=...&name=...   body: the image file's bytes -> JSON with data URLs
                        of the input (as the model saw it), the edit, the edit map and the
                        explanation figure, the words read and warnings; or {"error": ...}
                        with status 400 (bad image or description), 411, 413 (too large)

Safety: binds to 127.0.0.1 unless told otherwise; refuses uploads over the limit before
reading them into memory and images whose header claims more than :data:`MAX_SERVER_PIXELS`;
on a loopback address answers only requests addressed to a loopback host name (a guard
against DNS rebinding); one upload is decoded and edited at a time; nothing is written outside a temporary
folder that is removed after each request.
"""

from __future__ import annotations

import base64
import io
import ipaddress
import json
import math
import socket
import tempfile
import threading
import time
import warnings
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from PIL import Image

from textedit.data.images import load_image, tensor_to_pil
from textedit.editing.page import PAGE, SCRIPT
from textedit.errors import InputError, TextEditError
from textedit.visualize import heatmap

__all__ = ["EditServer", "check_server_options", "make_server", "is_loopback", "MAX_SERVER_PIXELS", "DEFAULT_MAX_UPLOAD_MB"]

#: largest image the demo decodes (width x height)
MAX_SERVER_PIXELS = 40_000_000
#: default upload limit
DEFAULT_MAX_UPLOAD_MB = 10.0
#: after a 413, read and drop the rest of the body for at most this long (a lingering
#: close): a client that is still sending would otherwise get a connection reset instead
#: of the answer
_DRAIN_SECONDS = 30.0


def _png_url(picture: Image.Image) -> str:
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return host == "localhost"


class EditServer(ThreadingHTTPServer):
    """An HTTP server that edits with one model (see the module docstring)."""

    daemon_threads = True
    #: listen backlog: a burst of uploads waits in the queue (edits run one at a time)
    #: instead of being reset, as the default of 5 does
    request_queue_size = 128

    def __init__(
        self,
        address: tuple[str, int],
        model: Any,
        model_name: str = "",
        max_upload_bytes: int = int(DEFAULT_MAX_UPLOAD_MB * 1e6),
        quiet: bool = False,
    ):
        self.model = model
        self.model_name = model_name or type(model).__name__
        self.max_upload_bytes = max_upload_bytes
        self.quiet = quiet
        self.lock = threading.Lock()
        if ":" in address[0]:  # an IPv6 address such as ::1
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{port}/"

    def edit(self, data: bytes, name: str, text: str) -> dict[str, Any]:
        """Edit an uploaded file; raises :class:`TextEditError` with a message for the user."""
        safe_name = Path(name or "upload").name or "upload"
        # One request at a time from decoding on: a small upload can decode to hundreds of
        # megabytes, and catch_warnings is process-wide (taken before the lock, concurrent
        # requests received each other's warnings).
        with self.lock, warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with tempfile.TemporaryDirectory(prefix="textedit-serve-") as tmp:
                path = Path(tmp) / "upload"
                path.write_bytes(data)
                try:
                    picture = load_image(path, max_pixels=MAX_SERVER_PIXELS)
                except InputError as exc:
                    raise InputError(str(exc).replace(str(path), safe_name)) from None
            result = self.model.edit(picture, text)
        return {
            "input": _png_url(tensor_to_pil(result.inputs[0])),
            "edited": _png_url(result.image),
            "map": _png_url(heatmap(result.localization[0], 256))
            if result.localization is not None
            else "",
            "explanation": _png_url(result.explain(0)),
            "words": list(result.words[0]),
            "unknown_words": list(result.unknown_words[0]),
            "truncated": bool(result.truncated[0]),
            "warnings": list(dict.fromkeys(str(w.message) for w in caught)),
        }


class _Handler(BaseHTTPRequestHandler):
    server: EditServer
    server_version = "textedit-serve"
    timeout = 60  # seconds a connection may stay silent

    # ------------------------------------------------------------------ plumbing
    def log_message(self, format: str, *args: Any) -> None:
        if not self.server.quiet:
            super().log_message(format, *args)

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        try:
            self._write(status, body, content_type)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client left (closed the tab); nothing to answer

    def _write(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        if status == HTTPStatus.METHOD_NOT_ALLOWED:
            self.send_header("Allow", "GET, HEAD, POST")
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Cache-Control", "no-store")
        if self.close_connection:
            self.send_header("Connection", "close")
        self.send_header(
            "Content-Security-Policy",
            "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; "
            "img-src 'self' data:; "
            "connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'",
        )
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, data: dict[str, Any]) -> None:
        self._send(status, json.dumps(data).encode("utf-8"), "application/json; charset=utf-8")

    def _error(self, status: int, message: str) -> None:
        self._json(status, {"error": message})

    def _host_allowed(self) -> bool:
        bound = self.server.server_address[0]
        if not is_loopback(bound):
            return True
        try:
            host = urlsplit("//" + (self.headers.get("Host") or "")).hostname or ""
        except ValueError:
            return False
        return is_loopback(host)

    # ------------------------------------------------------------------ routes
    def do_GET(self) -> None:
        if not self._host_allowed():
            return self._error(HTTPStatus.FORBIDDEN, "this demo only answers requests to localhost")
        route = urlsplit(self.path).path
        if route == "/":
            return self._send(HTTPStatus.OK, PAGE.encode("utf-8"), "text/html; charset=utf-8")
        if route == "/app.js":
            return self._send(
                HTTPStatus.OK, SCRIPT.encode("utf-8"), "text/javascript; charset=utf-8"
            )
        if route == "/api/info":
            limit = self.server.max_upload_bytes
            return self._json(
                HTTPStatus.OK,
                {
                    "model": self.server.model_name,
                    "image_size": int(self.server.model.image_size),
                    "max_upload_bytes": limit,
                    "max_upload_mb": round(limit / 1e6, 1),
                },
            )
        if route == "/api/edit":
            return self._not_allowed()
        return self._error(HTTPStatus.NOT_FOUND, f"no page {route}; open /")

    do_HEAD = do_GET

    def _not_allowed(self) -> None:
        self._error(
            HTTPStatus.METHOD_NOT_ALLOWED,
            f"{self.command} is not answered here: GET / for the page, POST an image's bytes to "
            f"/api/edit?text=...",
        )

    do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _not_allowed

    def do_POST(self) -> None:
        if not self._host_allowed():
            return self._error(HTTPStatus.FORBIDDEN, "this demo only answers requests to localhost")
        parts = urlsplit(self.path)
        if parts.path != "/api/edit":
            return self._error(HTTPStatus.NOT_FOUND, f"no endpoint {parts.path}; POST to /api/edit")
        query = parse_qs(parts.query)
        text = (query.get("text") or [""])[0]
        name = (query.get("name") or ["upload"])[0]
        length_header = self.headers.get("Content-Length")
        if length_header is None or not length_header.strip().isdigit():
            self.close_connection = True
            return self._error(
                HTTPStatus.LENGTH_REQUIRED,
                "send the image as the request body with a Content-Length",
            )
        length, limit = int(length_header), self.server.max_upload_bytes
        if length > limit:
            self.close_connection = True
            self._error(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                f"{Path(name).name} is {length / 1e6:.1f} MB; the limit is {limit / 1e6:g} MB. "
                f"Choose a smaller image (or start textedit serve with a larger --max-upload-mb).",
            )
            return self._drain(length)
        if length == 0:
            return self._error(
                HTTPStatus.BAD_REQUEST, "the uploaded file is empty (0 bytes); choose an image"
            )
        if (self.headers.get("Content-Type") or "").lower().startswith("multipart/"):
            self.close_connection = True
            self._error(
                HTTPStatus.BAD_REQUEST,
                "send the image's bytes as the request body (Content-Type: application/octet-stream), "
                "not a form; the description goes in ?text=",
            )
            return self._drain(length)
        data = self.rfile.read(length)
        try:
            answer = self.server.edit(data, name, text)
        except TextEditError as exc:
            return self._error(HTTPStatus.BAD_REQUEST, str(exc))
        except Exception as exc:  # noqa: BLE001  (the demo keeps serving; the user sees what failed)
            return self._error(
                HTTPStatus.INTERNAL_SERVER_ERROR, f"the edit failed: {type(exc).__name__}: {exc}"
            )
        return self._json(HTTPStatus.OK, answer)

    def _drain(self, length: int) -> None:
        """Read and drop the body of an answered request (never kept in memory) until it
        ends or :data:`_DRAIN_SECONDS` pass, so the client reads the answer instead of a
        connection reset."""
        deadline = time.monotonic() + _DRAIN_SECONDS
        remaining = length
        try:
            self.wfile.flush()
            while remaining > 0 and time.monotonic() < deadline:
                chunk = self.rfile.read1(min(remaining, 1 << 16))
                if not chunk:
                    break
                remaining -= len(chunk)
        except OSError:  # the client gave up or went silent past the timeout
            pass


def check_server_options(port: int, max_upload_mb: float) -> None:
    """Raises :class:`~textedit.errors.InputError` for a port outside 0-65535 or an upload
    limit that is not a positive finite number (``textedit serve`` checks them before the
    model loads)."""
    if not 0 <= port <= 65535:
        raise InputError(f"--port must be between 0 and 65535 (0 picks a free one), got {port}")
    if not math.isfinite(max_upload_mb) or max_upload_mb <= 0:
        raise InputError(f"--max-upload-mb must be a positive number, got {max_upload_mb}")


def make_server(
    model: Any,
    host: str = "127.0.0.1",
    port: int = 8000,
    max_upload_mb: float = DEFAULT_MAX_UPLOAD_MB,
    model_name: str = "",
    quiet: bool = False,
) -> EditServer:
    """An :class:`EditServer` bound to ``host:port`` (``port=0``: a free port; see ``.url``)."""
    check_server_options(port, max_upload_mb)
    try:
        return EditServer((host, port), model, model_name, int(max_upload_mb * 1e6), quiet)
    except OSError as exc:
        raise TextEditError(
            f"cannot listen on {host}:{port} ({exc.strerror or exc}); pick another --port "
            f"(0 picks a free one) or --host"
        ) from None
