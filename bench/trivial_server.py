"""A trivial HTTP server: the route the load generators are measured against.

``python bench/trivial_server.py PORT`` answers every request (any method, any path, a
``Content-Length`` body read and dropped) with ``200`` and a small JSON body shaped
like an inbound answer, on keep-alive connections. No framework: an asyncio protocol
(on uvloop when it is installed) that does nearly no work per request, so a generator
driven against it shows the generator's limit, not the server's.

Run by path (standard library only, plus uvloop if present) so it starts in ~0.1 s.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from typing import cast

BODY = (
    b'{"action":"opted_out","subject_id":"00000000-0000-0000-0000-000000000000",'
    b'"event_id":"00000000-0000-0000-0000-000000000000","position":1,"duplicate":false}'
)
ANSWER = (
    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: "
    + str(len(BODY)).encode()
    + b"\r\n\r\n"
    + BODY
)
BAD = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"


class Trivial(asyncio.Protocol):
    def __init__(self) -> None:
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        answers = 0
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                break
            length = content_length(bytes(self.buffer[:end]))
            if length is None:
                self.fail()
                return
            if len(self.buffer) < end + 4 + length:
                break
            del self.buffer[: end + 4 + length]
            answers += 1
        if answers and self.transport is not None:
            self.transport.write(ANSWER * answers)

    def fail(self) -> None:
        if self.transport is not None:
            self.transport.write(BAD)
            self.transport.close()


def content_length(head: bytes) -> int | None:
    """The body's length (0 when there is none); None for a body we cannot frame."""
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value.strip())
        elif name == b"transfer-encoding":
            return None
    return length


async def serve(port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Trivial, "127.0.0.1", port, backlog=4096)
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    print("ready", flush=True)
    async with server:
        await stop.wait()


def main() -> None:
    port = int(sys.argv[1])
    try:
        import uvloop
    except ImportError:
        asyncio.run(serve(port))
    else:
        uvloop.run(serve(port))


if __name__ == "__main__":
    main()
