"""The web front: an event loop in front of the Flask app, so that no request thread ever waits on a client.

Why not a thread per connection (gunicorn's gthread): a browser tab's live stream, a client that sends
its headers or body slowly, or one that reads slowly each held a thread, and a few hundred of them
starved every page. Here the event loop owns every connection (:mod:`webapp.front` runs it under
uvicorn and closes connections whose request head is late); a request thread is taken only once a
request is complete, and given back before the answer is written:

* the body is read on the loop (bounded by ``HUITONG_MAX_UPLOAD_MB``, spooled to a 0600 temp file,
  408 when it stalls ``HUITONG_BODY_TIMEOUT_SECONDS``), then the Flask app runs in a thread pool of
  ``HUITONG_WEB_THREADS``;
* the answer is collected in the thread, except files (``send_file``), which the loop reads and writes
  in chunks after the thread is free;
* live-update streams are handed to :mod:`webapp.live` and served on the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import sys
import tempfile
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import IO, Any

from flask import Flask

from settings import Settings, get_settings
from webapp import live
from webapp.live import Receive, Scope, Send, plain

log = logging.getLogger("huitong.front")

SPOOL_BYTES = 1024 * 1024  # request bodies above this wait on disk, not in memory
FILE_CHUNK = 256 * 1024


class FileWrapper:
    """``wsgi.file_wrapper``: lets the front send a file from the loop after the app's thread is free."""

    def __init__(self, filelike: IO[bytes], block_size: int = 8192) -> None:
        self.filelike = filelike
        self.block_size = block_size

    def __iter__(self) -> Any:
        while chunk := self.filelike.read(self.block_size):
            yield chunk

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.filelike.close()


class Answer:
    """What the app said: status, headers, and either the whole body, a file, or a stream to hand over."""

    def __init__(self) -> None:
        self.status = 500
        self.headers: list[tuple[bytes, bytes]] = []
        self.chunks: list[bytes] = []
        self.file: FileWrapper | None = None
        self.stream: live.StreamRequest | None = None

    def start_response(self, status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        self.status = int(status.split(" ", 1)[0])
        self.headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers]
        return self.chunks.append  # the legacy write() callable


class Front:
    """The ASGI application: lifespan, the Flask app in a thread pool, live streams on the loop."""

    def __init__(self, app: Flask, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.pool = ThreadPoolExecutor(max_workers=settings.web_threads, thread_name_prefix="huitong-web")
        self.live = live.LiveService(app, settings)
        self.max_body = settings.max_upload_mb * 1024 * 1024

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            await self._http(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.pool.shutdown(wait=False, cancel_futures=True)
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = await self._read_body(scope, receive, send)
        if body is None:
            return
        environ = self._environ(scope, *body)
        loop = asyncio.get_running_loop()
        answer = await loop.run_in_executor(self.pool, self._run_app, environ)
        if answer.stream is not None:
            await self.live.serve(answer.stream, receive, send, scope)
            return
        if body[1] > self.max_body:
            answer.headers.append((b"connection", b"close"))  # the rest of an oversized body is never read
        await send({"type": "http.response.start", "status": answer.status, "headers": answer.headers})
        if answer.file is None:
            await send({"type": "http.response.body", "body": b"".join(answer.chunks), "more_body": False})
            return
        try:
            while chunk := await loop.run_in_executor(None, answer.file.filelike.read, FILE_CHUNK):
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            answer.file.close()

    async def _read_body(self, scope: Scope, receive: Receive, send: Send) -> tuple[IO[bytes], int] | None:
        """The whole request body, or None when the front has answered already (408)."""
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body:
            # Not read at all: the app answers 413 from the declared length alone.
            return io.BytesIO(), int(declared)
        spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - handed to the app
        size = 0
        more = True
        while more:
            try:
                message = await asyncio.wait_for(receive(), self.settings.body_timeout_seconds)
            except TimeoutError:
                spool.close()
                await plain(send, 408, live.front_text(self.app, scope, "body_too_slow"), {"connection": "close"})
                return None
            if message["type"] == "http.disconnect":
                spool.close()
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                # Stop reading; a length over the limit makes the app answer 413 without looking further.
                return spool, size
            spool.write(chunk)
            more = message.get("more_body", False)
        spool.seek(0)
        return spool, size

    def _environ(self, scope: Scope, body: IO[bytes], length: int) -> dict[str, Any]:
        server = scope.get("server") or ("127.0.0.1", self.settings.port)
        client = scope.get("client") or ("", 0)
        environ: dict[str, Any] = {
            "REQUEST_METHOD": scope["method"],
            "SCRIPT_NAME": scope.get("root_path", "").encode().decode("latin-1"),
            "PATH_INFO": scope["path"].encode().decode("latin-1"),
            "QUERY_STRING": scope["query_string"].decode("latin-1"),
            "SERVER_NAME": str(server[0]),
            "SERVER_PORT": str(server[1]),
            "SERVER_PROTOCOL": f"HTTP/{scope['http_version']}",
            "REMOTE_ADDR": client[0],
            "REMOTE_PORT": str(client[1]),
            "CONTENT_LENGTH": str(length) if length or scope["method"] in ("POST", "PUT", "PATCH") else "",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": scope.get("scheme", "http"),
            "wsgi.input": body,
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
            "wsgi.file_wrapper": FileWrapper,
            live.ASYNC_FLAG: True,
        }
        for raw_name, raw_value in scope["headers"]:
            name, value = raw_name.decode("latin-1").upper().replace("-", "_"), raw_value.decode("latin-1")
            if name == "CONTENT_LENGTH":
                continue  # the length read above is the truth
            key = name if name == "CONTENT_TYPE" else f"HTTP_{name}"
            if key in environ:
                value = environ[key] + ("; " if key == "HTTP_COOKIE" else ",") + value
            environ[key] = value
        return environ

    def _run_app(self, environ: dict[str, Any]) -> Answer:
        """In a pool thread: run the Flask app and collect its answer."""
        answer = Answer()
        try:
            result: Iterable[bytes] = self.app(environ, answer.start_response)
            stream = environ.get(live.ENVIRON_KEY)
            if isinstance(stream, live.StreamRequest) and answer.status == 200:
                answer.stream = stream
                _close(result)
            elif isinstance(result, FileWrapper):
                answer.file = result
            else:
                try:
                    answer.chunks.extend(result)
                finally:
                    _close(result)
        except Exception:
            log.exception("request failed outside the app's error handling")
            answer.status, answer.headers, answer.chunks = 500, [(b"content-type", b"text/plain")], [b"error"]
        finally:
            with contextlib.suppress(Exception):
                environ["wsgi.input"].close()
        return answer


def _close(result: object) -> None:
    close = getattr(result, "close", None)
    if callable(close):
        close()


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


def create_front() -> Front:
    """The ASGI application of ``huitong web`` (built in each web process)."""
    from webapp import create_app

    settings = get_settings()
    return Front(create_app(settings), settings)
