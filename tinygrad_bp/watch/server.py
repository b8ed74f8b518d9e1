"""The watch page's server: the standard library's HTTP server on 127.0.0.1, one session.

Routes, and nothing else (no file system path is ever looked up):

    GET  /            the page (page.html)          GET /watch.js, /watch.css   its assets
    GET  /frame       the current frame as JSON     GET /events   frames as server-sent events
    POST /control     {"action": ...} -> the new frame, or 400 {"error": ...}

Frames are coalesced: each reader of /events gets the latest state when it changed,
at most ``MAX_FPS`` times a second, however many epochs the trainer thread did in
between. Requests must name the server itself in their Host header (127.0.0.1 or
localhost with its port), so another web site cannot reach it through a renamed
host, and /control wants a JSON body, which a cross-site form cannot send.
"""

from __future__ import annotations

import functools
import json
import sys
import threading
import time
import webbrowser
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any

from .record import GENERATED_ASSETS
from .session import Session

HOST = "127.0.0.1"
MAX_FPS = 30
MAX_BODY = 4096  # bytes of a /control request
KEEPALIVE = 10.0  # seconds between comments on an idle event stream
IDLE_TIMEOUT = 15.0  # seconds a connection may wait on the page before it is closed
MAX_CONNECTIONS = 64  # open at once; more are closed at once (each holds a thread)

ASSETS = {
    "/": ("page.html", "text/html; charset=utf-8"),
    "/watch.js": ("watch.js", "text/javascript; charset=utf-8"),
    "/watch.css": ("watch.css", "text/css; charset=utf-8"),
    "/palette.css": ("palette.css", "text/css; charset=utf-8"),
}
# Every asset is local: the page may load nothing from elsewhere.
POLICY = "default-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'"


@functools.cache
def asset(name: str) -> str:
    """The text of one of the page's files (package data of tinygrad_bp.watch, or
    made by Python: ``GENERATED_ASSETS``).

    >>> 'id="epoch"' in asset("page.html") and 'id="loss"' in asset("page.html")
    True
    """
    if name in GENERATED_ASSETS:
        return GENERATED_ASSETS[name]
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


class WatchServer(ThreadingHTTPServer):
    """An HTTP server on 127.0.0.1:port serving one ``Session``.

    ``port=0`` lets the system pick a free port; ``url`` says which. Raises OSError
    when the port cannot be bound (in use, or not allowed). A connection that sends
    nothing for ``idle_timeout`` seconds is closed; at most ``MAX_CONNECTIONS`` are
    served at once, further ones closed as they come.
    """

    daemon_threads = True  # an open event stream never keeps the process alive

    def __init__(self, session: Session, port: int, idle_timeout: float = IDLE_TIMEOUT) -> None:
        self.session = session
        self.idle_timeout = idle_timeout
        super().__init__((HOST, port), _Handler)
        self.port = self.server_address[1]
        self.url = f"http://{HOST}:{self.port}/"
        self.hosts = {f"{HOST}:{self.port}", f"localhost:{self.port}"}
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)

    def process_request(self, request: Any, client_address: Any) -> None:
        """Serve the connection in a thread of its own, unless MAX_CONNECTIONS are open:
        then close it at once, so that idle connections cannot use up the descriptors."""
        if not self._slots.acquire(blocking=False):
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:  # no thread started (none left?): the slot is free again
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A page that went away mid-answer, or stalled past the timeout, is no error;
        anything else is reported."""
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)

    def close(self) -> None:
        """End the session and close the socket (after ``shutdown()`` when
        ``serve_forever`` runs in another thread)."""
        self.session.close()
        self.server_close()


def apply_control(session: Session, message: Any) -> None:
    """Carry out one /control message on the session; ValueError if it is not one.

    Messages: ``{"action": "play"}``, ``"pause"``, ``"step_example"``,
    ``"step_epoch"``, ``"reset"``, ``{"action": "select", "index": i}`` and
    ``{"action": "configure", "dataset": ..., "hidden": [...], "activation": ...,
    "lr": ..., "seed": ..., "online": ...}`` (any of these settings).

    >>> from .session import make_config
    >>> session = Session(make_config(seed=1))
    >>> apply_control(session, {"action": "step_epoch"})
    >>> session.epoch
    1
    >>> apply_control(session, {"action": "fly"})
    Traceback (most recent call last):
    ValueError: unknown control {'action': 'fly'}
    """
    if not isinstance(message, dict) or not isinstance(message.get("action"), str):
        raise ValueError('a control message is a JSON object {"action": ...}')
    action = message["action"]
    arguments = {key: value for key, value in message.items() if key != "action"}
    if action == "configure":
        session.configure(**arguments)
        return
    if action == "select" and set(arguments) == {"index"}:
        session.select(arguments["index"])
        return
    simple = {
        "play": session.play,
        "pause": session.pause,
        "step_example": session.step_example,
        "step_epoch": session.step_epoch,
        "reset": session.reset,
    }
    if action not in simple or arguments:
        raise ValueError(f"unknown control {message!r:.80}")
    simple[action]()


def _length(header: str | None) -> int:
    """The Content-Length of a request, -1 when absent or not a number."""
    try:
        return int(header or "-1")
    except ValueError:
        return -1


class _Handler(BaseHTTPRequestHandler):
    server: WatchServer
    protocol_version = "HTTP/1.1"
    # Headers and body leave in one packet, at once: with Nagle's algorithm and the
    # reader's delayed ACK, a body sent after its headers waits ~40 ms (25 answers/s).
    disable_nagle_algorithm = True
    wbufsize = -1  # buffered: handle_one_request flushes after each answer

    def setup(self) -> None:
        super().setup()
        self.connection.settimeout(self.server.idle_timeout)  # idle or stalled: closed

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the terminal shows the URL and errors only."""

    def _allowed(self) -> bool:
        if self.headers.get("Host") in self.server.hosts:
            return True
        self._send(HTTPStatus.FORBIDDEN, b"unknown host\n", "text/plain")
        return False

    def do_GET(self) -> None:
        if not self._allowed():
            return
        path = self.path.split("?", 1)[0]
        if path in ASSETS:
            name, kind = ASSETS[path]
            self._send(HTTPStatus.OK, asset(name).encode(), kind)
        elif path == "/frame":
            self._send(HTTPStatus.OK, self.server.session.frame_json(), "application/json")
        elif path == "/events":
            self._events()
        else:
            self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain")

    def do_POST(self) -> None:
        if not self._allowed():
            return
        if self.path != "/control":
            self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain")
            return
        length = _length(self.headers.get("Content-Length"))
        if not self.headers.get("Content-Type", "").startswith("application/json"):
            self._json(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, {"error": "send application/json"})
        elif not 0 < length <= MAX_BODY:
            self._json(HTTPStatus.BAD_REQUEST, {"error": f"a body of 1 to {MAX_BODY} bytes"})
        else:
            try:
                message = json.loads(self.rfile.read(length))
            except RecursionError:  # a body of 2,000 nested brackets
                self._json(HTTPStatus.BAD_REQUEST, {"error": "the JSON is nested too deeply"})
                return
            except ValueError as error:  # json.JSONDecodeError, bad UTF-8
                self._json(HTTPStatus.BAD_REQUEST, {"error": str(error)})
                return
            try:
                apply_control(self.server.session, message)
            except ValueError as error:
                self._json(HTTPStatus.BAD_REQUEST, {"error": str(error)})
                return
            self._send(HTTPStatus.OK, self.server.session.frame_json(), "application/json")

    def _events(self) -> None:
        """Send each new state as a server-sent event, at most MAX_FPS a second."""
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        session, seen = self.server.session, -1
        try:
            while not session.closed:
                version = session.wait_for_change(seen, KEEPALIVE)
                if version == seen:
                    self.wfile.write(b": still here\n\n")
                else:
                    sent = time.monotonic()
                    seen = session.version
                    self.wfile.write(b"data: " + session.frame_json() + b"\n\n")
                    time.sleep(max(0.0, 1.0 / MAX_FPS - (time.monotonic() - sent)))
                self.wfile.flush()
        except (ConnectionError, TimeoutError):
            return  # the page went away, or stopped reading

    def _json(self, status: HTTPStatus, body: Any) -> None:
        self._send(status, json.dumps(body).encode(), "application/json")

    def _send(self, status: HTTPStatus, body: bytes, kind: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Content-Security-Policy", POLICY)
        self.end_headers()
        self.wfile.write(body)


def serve(server: WatchServer, open_browser: bool = True) -> int:
    """Train and serve until Ctrl-C; print the URL (and open it in a browser).

    Returns:
        130, the exit status of a program stopped by Ctrl-C (128 + SIGINT).
    """
    try:
        server.session.start()
        print(f"watching at {server.url}  (Ctrl-C stops)", flush=True)
        if open_browser:
            webbrowser.open(server.url)
        server.serve_forever()
    except KeyboardInterrupt:
        print("stopped", flush=True)
    finally:
        try:
            server.close()
        except KeyboardInterrupt:  # a second Ctrl-C while stopping: the threads are daemons
            pass
    return 130
