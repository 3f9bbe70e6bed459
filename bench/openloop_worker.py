"""One process of the open-loop sender (``bench.openloop`` starts and reads them).

``python bench/openloop_worker.py SPEC_JSON``: opens a few keep-alive connections,
prints ``ready``, reads the start time t0 (``time.monotonic()``, the clock every process
on the machine shares) from stdin, then sends its slots of the schedule: slot i (i = k,
k + P, k + 2P, ... for worker k of P) is due at t0 + i / rate, by the clock, whatever
the earlier requests are doing. A due request takes a free connection or opens a new
one (up to ``connections``; beyond that it waits for one, and that wait counts in its
latency, which runs from the due time). Each answer is one stdout line:

    slot status due dispatched sent answered info

(times in ``time.monotonic()`` seconds: due; when its task started, the sender's own
delay; when it went out on a connection, after waiting for one; when it was answered.
Status 0 for no answer. Info is the answer's ``subject_id,position`` when asked to
parse, else ``-``; or what went wrong, after a ``!``.) Lines go out every 2 ms.
Answers still missing ``drain`` seconds after the last slot was due are reported as
status 0. The last line is ``cpu SECONDS``: the CPU time the worker used from t0 on
(its start-up excluded).

Standard library only (plus uvloop when installed), run by path: no package imports,
so it starts in a fraction of a second.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import json
import sys
import time
from datetime import UTC, datetime
from typing import Any

TEXTS = ("STOP", "START")
FLUSH_SECONDS = 0.002  # answers reach the parent at most this late


Conn = tuple[asyncio.StreamReader, asyncio.StreamWriter]


class Pool:
    """Keep-alive connections to one server; opens more on demand up to ``limit``.

    A request that finds none free and the limit reached waits, first come first served.
    """

    def __init__(self, host: str, port: int, limit: int) -> None:
        self.host, self.port, self.limit = host, port, limit
        self.idle: list[Conn] = []
        self.opened = 0
        # Waiting requests; each gets a connection, or None: open one in my place.
        self.waiting: collections.deque[asyncio.Future[Conn | None]] = collections.deque()

    async def take(self) -> Conn:
        while self.idle:
            conn = self.idle.pop()
            if not conn[0].at_eof() and not conn[1].is_closing():
                return conn
            # The server closed it while it sat idle (its keep-alive timeout): sending on
            # it would fail at once, an error of the sender, not of the server.
            conn[1].close()
            self.opened -= 1
        if self.opened >= self.limit:
            waiter = asyncio.get_running_loop().create_future()
            self.waiting.append(waiter)
            conn = await waiter
            if conn is not None:
                return conn
        else:
            self.opened += 1
        try:
            return await asyncio.open_connection(self.host, self.port)
        except BaseException:
            self._hand_on(None)
            raise

    def give(self, conn: Conn) -> None:
        self._hand_on(conn)

    def drop(self, conn: Conn) -> None:
        """A connection that broke or that the server closes: its place frees up."""
        conn[1].close()
        self._hand_on(None)

    def _hand_on(self, conn: Conn | None) -> None:
        while self.waiting:
            waiter = self.waiting.popleft()
            if not waiter.done():
                waiter.set_result(conn)
                return
        if conn is None:
            self.opened -= 1
        else:
            self.idle.append(conn)


@functools.lru_cache(maxsize=4)
def occurred_at(second: int) -> str:
    """One second before ``second``, as a gateway reports a message it just received."""
    return datetime.fromtimestamp(second - 1, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def inbound_request(spec: dict[str, Any], slot: int) -> bytes:
    """``POST /v1/messages/inbound``: a new message from a new person per slot."""
    n = spec["first"] + slot
    area = spec["area"]
    occurred = occurred_at(int(time.time()))
    body = (
        f'{{"channel":"whatsapp","from":"+1{area}{n:07d}","text":"{TEXTS[n % 2]}",'
        f'"message_id":"wamid.bench.{area}.{n}","occurred_at":"{occurred}"}}'
    ).encode()
    return head(spec, "POST", spec["path"], len(body)) + body


def head(spec: dict[str, Any], method: str, path: str, length: int | None) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {spec['host']}:{spec['port']}"]
    if spec.get("key"):
        lines.append(f"Authorization: Bearer {spec['key']}")
    if length is not None:
        lines += ["Content-Type: application/json", f"Content-Length: {length}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def exchange(conn: Conn, request: bytes) -> tuple[int, bytes, bool]:
    """One request and its answer: (status, body, whether the connection stays open)."""
    reader, writer = conn
    writer.write(request)
    header = await reader.readuntil(b"\r\n\r\n")
    status = int(header[9:12])
    length, chunked, keep = 0, False, True
    for line in header.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name, value = name.strip().lower(), value.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and value == b"chunked":
            chunked = True
        elif name == b"connection" and value == b"close":
            keep = False
    if not chunked:
        return status, await reader.readexactly(length), keep
    parts = []
    while size := int((await reader.readuntil(b"\r\n")).strip().split(b";")[0], 16):
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)
    await reader.readuntil(b"\r\n")
    return status, b"".join(parts), keep


def describe(status: int, body: bytes, parse: bool) -> str:
    """The info field: ``subject_id,position`` of an inbound answer, or ``!`` and what
    went wrong (an answer outside 2xx, or one without a recorded event)."""
    if 200 <= status < 300:
        if not parse:
            return "-"
        try:
            answer = json.loads(body)
            return f"{answer['subject_id']},{int(answer['position'])}"
        except (ValueError, KeyError, TypeError):
            pass
    return "!" + body[:200].decode(errors="replace").replace(" ", "_").replace("\n", "_")


async def one(spec: dict[str, Any], pool: Pool, slot: int, due: float) -> str:
    dispatched = time.monotonic()
    if spec["body"] == "inbound":
        request = inbound_request(spec, slot)
    else:
        request = head(spec, "GET", spec["path"], None)
    status, info, sent = 0, "-", 0.0
    for _ in range(2):  # a keep-alive connection the server closed meanwhile: retry once
        try:
            conn = await pool.take()
        except OSError as error:
            info = f"!connect:{type(error).__name__}"
            continue
        sent = sent or time.monotonic()
        try:
            status, body, keep = await exchange(conn, request)
        except (OSError, asyncio.IncompleteReadError, ValueError) as error:
            pool.drop(conn)
            info = f"!{type(error).__name__}"
            continue
        if keep:
            pool.give(conn)
        else:
            pool.drop(conn)
        info = describe(status, body, spec["parse"])
        break
    answered = time.monotonic()
    times = f"{due:.6f} {dispatched:.6f} {sent or answered:.6f} {answered:.6f}"
    return f"{slot} {status} {times} {info}\n"


async def main(spec: dict[str, Any]) -> None:
    pool = Pool(spec["host"], spec["port"], spec["connections"])
    warm = [await pool.take() for _ in range(min(4, spec["connections"]))]
    for conn in warm:
        pool.give(conn)
    print("ready", flush=True)
    t0 = float(await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline))
    cpu_before = time.process_time()
    rate, total = spec["rate"], spec["total"]
    slots = range(spec["worker"], total, spec["workers"])
    tasks: dict[int, asyncio.Task[None]] = {}
    lines: list[str] = []

    async def send(slot: int, due: float) -> None:
        lines.append(await one(spec, pool, slot, due))
        del tasks[slot]

    async def flush_every(seconds: float) -> None:
        while True:
            await asyncio.sleep(seconds)
            flush(lines)

    flusher = asyncio.create_task(flush_every(FLUSH_SECONDS))
    for slot in slots:
        due = t0 + slot / rate
        pause = due - time.monotonic()
        if pause > 0:
            await asyncio.sleep(pause)
        tasks[slot] = asyncio.create_task(send(slot, due))
    end = t0 + total / rate + spec["drain"]
    if tasks:
        await asyncio.wait(list(tasks.values()), timeout=max(0.0, end - time.monotonic()))
    flusher.cancel()
    now = time.monotonic()
    for slot, task in list(tasks.items()):
        task.cancel()
        due = f"{t0 + slot / rate:.6f}"
        lines.append(f"{slot} 0 {due} {due} {now:.6f} {now:.6f} !no-answer-in-time\n")
    lines.append(f"cpu {time.process_time() - cpu_before:.6f}\n")
    flush(lines)


def flush(lines: list[str]) -> None:
    if lines:
        sys.stdout.write("".join(lines))
        sys.stdout.flush()
        lines.clear()


def run() -> None:
    spec = json.loads(sys.argv[1])
    try:
        import uvloop
    except ImportError:
        asyncio.run(main(spec))
    else:
        uvloop.run(main(spec))


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        run()
