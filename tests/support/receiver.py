"""A real HTTP endpoint in the test process that receives webhooks and records them.

``respond`` decides each answer's status from the parsed CloudEvent (default 200), so a
test can make the receiver fail for a while, or for one subject, then recover.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes
    status: int  # what the receiver answered

    @property
    def event(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


class Receiver:
    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.respond: Callable[[dict[str, Any]], int] = lambda event: 200
        self._cond = threading.Condition()
        self.url = ""

    def record(self, received: Received) -> None:
        with self._cond:
            self.requests.append(received)
            self._cond.notify_all()

    def accepted(self) -> list[Received]:
        with self._cond:
            return [r for r in self.requests if 200 <= r.status < 300]

    def wait_until(self, condition: Callable[[Receiver], bool], timeout: float = 60.0) -> None:
        """Wait (generously: the machine is shared) until ``condition`` holds."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not condition(self):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"the receiver did not see what was expected in {timeout} s; "
                        f"it saw {[(r.status, r.event.get('type')) for r in self.requests]}"
                    )
                self._cond.wait(min(left, 0.5))


@contextmanager
def running_receiver(path: str = "/hooks/consent") -> Iterator[Receiver]:
    receiver = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            body = self.rfile.read(length)
            headers = {k.lower(): v for k, v in self.headers.items()}
            try:
                status = receiver.respond(json.loads(body))
            except ValueError:
                status = 400
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()
            receiver.record(Received(headers, body, status))

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, name="receiver", daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}{path}"
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
