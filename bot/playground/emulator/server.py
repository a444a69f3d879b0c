"""The emulator's HTTP side: Bot API calls on 127.0.0.1, as python-telegram-bot sends them."""

from __future__ import annotations

import json
import threading
import urllib.parse
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from bot.playground.emulator.model import TOKEN, ApiError, DropConnection
from bot.playground.emulator.world import World


def parse_body(
    content_type: str, body: bytes
) -> tuple[dict[str, Any], dict[str, tuple[str, bytes]]]:
    """Form fields and files of a request (urlencoded, multipart or JSON)."""
    if content_type.startswith("application/json"):
        return (json.loads(body or b"{}"), {})
    if content_type.startswith("multipart/form-data"):
        message = BytesParser(policy=HTTP).parsebytes(
            b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
        )
        params: dict[str, Any] = {}
        files: dict[str, tuple[str, bytes]] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            filename = part.get_filename()
            raw = part.get_payload(decode=True)
            payload = raw if isinstance(raw, bytes) else b""
            if filename is not None:
                files[str(name)] = (filename, payload)
            else:
                params[str(name)] = payload.decode("utf-8")
        for key, value in list(params.items()):
            if isinstance(value, str) and value.startswith("attach://"):
                attached = files.pop(value.removeprefix("attach://"), None)
                if attached is not None:
                    files[key] = attached
                    del params[key]
        return params, files
    return (
        {
            k: v[-1]
            for k, v in urllib.parse.parse_qs(body.decode("utf-8"), keep_blank_values=True).items()
        },
        {},
    )


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    # headers and body are written separately; with Nagle's algorithm on, every answer would
    # wait ~40 ms for the client's delayed ACK
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def do_POST(self) -> None:
        self._serve()

    def do_GET(self) -> None:
        self._serve()

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path = urllib.parse.urlparse(self.path).path
        parts = path.strip("/").split("/")
        if len(parts) != 2 or parts[0] != f"bot{TOKEN}":
            self._reply(
                401 if parts and parts[0].startswith("bot") else 404,
                {"ok": False, "error_code": 401, "description": "Unauthorized"},
            )
            return
        params, files = parse_body(self.headers.get("Content-Type", ""), body)
        try:
            result = self.server.world.handle(parts[1], params, files)
        except DropConnection:
            self.close_connection = True
            return
        except ApiError as exc:
            payload: dict[str, Any] = {
                "ok": False,
                "error_code": exc.code,
                "description": exc.description,
            }
            if exc.parameters:
                payload["parameters"] = exc.parameters
            self._reply(exc.code, payload)
            return
        self._reply(200, result)

    def _reply(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the bot went away mid-answer (it was stopped)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], world: World) -> None:
        super().__init__(address, _Handler)
        self.world = world


class BotApiEmulator:
    """Runs the emulated Bot API on 127.0.0.1 in a background thread."""

    def __init__(self, world: World | None = None, port: int = 0) -> None:
        self.world = world or World()
        self._port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    def start(self) -> BotApiEmulator:
        self._server = _Server(("127.0.0.1", self._port), self.world)
        self._port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening: connections are refused until `start` again (same port)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        with self.world.updates_ready:
            self.world.updates_ready.notify_all()

    def __enter__(self) -> BotApiEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
