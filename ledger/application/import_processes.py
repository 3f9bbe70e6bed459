"""One CSV import spread over several processes, each subject's rows in one of them.

``consent-ledger import`` spent ~0.9 of a core in its one process while PostgreSQL took
~0.15 (about 235 µs of Python a row: reading the row, checking it, deciding and sealing
its event). With ``parts`` processes the rows are dealt out by subject: this process
reads the file and sends each row to the process its channel and (normalised) address
hash to, in chunks; each process checks, decides and records its rows through its own
writer, in file order, as a one-process import would. So a subject's rows keep their
order (an opt-in and the opt-out after it are recorded in that order), and no two
processes write one subject. The report is the same as a one-process import's: counts
summed, rejections by row.

A row whose address does not normalise is sent by what it is; whichever process gets it
rejects it as one process would. Two spellings of one number normalise to the same
subject and go to the same process. If a process fails, the import stops: what was
stored stays stored, and running the same import again records only what is missing
(rows without ``source_id`` get one from their content).
"""

from __future__ import annotations

import contextlib
import queue
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from typing import Any

from ledger.application.consent_ledger import ConsentLedger
from ledger.application.imports import BATCH_SIZE, ImportReport, Rejection, import_rows, parsed_row
from ledger.domain.addresses import normalise_address, parse_channel
from ledger.domain.errors import LedgerError
from ledger.runtime.collector import fewer_full_collections
from ledger.runtime.process_start import child_context

# Rows sent to a process at a time; at most QUEUED_CHUNKS wait for it (memory stays bounded
# however large the file).
CHUNK_ROWS = 500
QUEUED_CHUNKS = 8
WAIT_SECONDS = 0.2
RERUN = "what it stored stays stored, and the same import run again records only what is missing"

Record = tuple[int, dict[str, Any]]


class ImportProcessFailed(RuntimeError):
    """A process of the import stopped without its report."""


def part_of(row: dict[str, Any], parts: int) -> int:
    """The process a row goes to: the same for every row of one subject."""
    channel = str(row.get("channel") or "").strip().lower()
    address = str(row.get("address") or "")
    with contextlib.suppress(LedgerError):  # else refused by whichever process gets it
        address = normalise_address(parse_channel(channel), address)
    return zlib.crc32(f"{channel}\x1f{address}".encode()) % parts


@dataclass
class _Counts:
    """What one process recorded since its last message."""

    accepted: int
    duplicates: int
    rejected: list[Rejection]


def import_in_processes(
    env: dict[str, str],
    records: Iterable[Record],
    *,
    tenant: str,
    recorded_by: str | None,
    parts: int,
    progress: Callable[[ImportReport], None] | None = None,
) -> ImportReport:
    """Import ``records`` (``csv_records`` of the file) in ``parts`` processes."""
    running = _Parts(env, tenant, recorded_by, parts, progress)
    report = running.report
    try:
        chunks: list[list[Record]] = [[] for _ in range(parts)]
        for record in records:
            report.rows += 1
            n = part_of(record[1], parts)
            chunks[n].append(record)
            if len(chunks[n]) >= CHUNK_ROWS:
                running.send(n, chunks[n])
                chunks[n] = []
        for n in range(parts):
            if chunks[n]:
                running.send(n, chunks[n])
            running.send(n, None)
        while not all(running.done):
            running.receive(block=True)
    finally:
        running.stop()
    report.rejected.sort(key=lambda r: r.row)
    if progress is not None:
        progress(report)
    return report


class _Parts:
    """The recording processes of one import, their queues, and the report they fill."""

    def __init__(
        self,
        env: dict[str, str],
        tenant: str,
        recorded_by: str | None,
        parts: int,
        progress: Callable[[ImportReport], None] | None,
    ) -> None:
        context = child_context()
        self.inboxes: list[Any] = [context.Queue(QUEUED_CHUNKS) for _ in range(parts)]
        self.outbox: Any = context.Queue()
        self.processes: list[BaseProcess] = [
            context.Process(  # type: ignore[attr-defined]
                target=_import_part,
                args=(n, env, tenant, recorded_by, self.inboxes[n], self.outbox),
                name=f"consent-ledger-import-{n}",
                daemon=True,
            )
            for n in range(parts)
        ]
        self.done = [False] * parts
        self.report = ImportReport()
        self.progress = progress
        for process in self.processes:
            process.start()

    def send(self, part: int, chunk: list[Record] | None) -> None:
        """Hand ``chunk`` to its process, taking in the others' news while its queue is
        full."""
        while True:
            self.receive(block=False)
            try:
                self.inboxes[part].put(chunk, timeout=WAIT_SECONDS)
                return
            except queue.Full:
                continue

    def receive(self, *, block: bool) -> None:
        """Take in what the processes sent (with ``block``, wait for one message)."""
        while True:
            try:
                part, kind, payload = (
                    self.outbox.get(timeout=WAIT_SECONDS) if block else self.outbox.get_nowait()
                )
            except queue.Empty:
                dead = [
                    p.name
                    for n, p in enumerate(self.processes)
                    if not self.done[n] and not p.is_alive()
                ]
                if dead:
                    raise ImportProcessFailed(
                        f"{', '.join(dead)} stopped without its report; {RERUN}"
                    ) from None
                if block:
                    continue
                return
            if kind == "failed":
                raise ImportProcessFailed(f"import process {part} failed ({payload}); {RERUN}")
            counts: _Counts = payload
            self.report.accepted += counts.accepted
            self.report.duplicates += counts.duplicates
            self.report.rejected.extend(counts.rejected)
            if kind == "done":
                self.done[part] = True
            if self.progress is not None:
                self.progress(self.report)
            if block:
                return

    def stop(self) -> None:
        """Wait for every process; one that did not finish is stopped."""
        for n, process in enumerate(self.processes):
            if not self.done[n]:
                # Rows still queued for it go nowhere: exiting must not wait to send them.
                self.inboxes[n].cancel_join_thread()
                if process.is_alive():
                    process.terminate()
            process.join(timeout=30)


def _import_part(
    part: int,
    env: dict[str, str],
    tenant: str,
    recorded_by: str | None,
    inbox: Any,
    outbox: Any,
) -> None:
    """One process of the import: its rows, through its own ledger and writer."""
    fewer_full_collections()  # a forked process has it already; a spawned one not
    sent = _Counts(0, 0, [])  # the totals sent so far (``rejected``: unused)
    sent_rejections = 0

    def rows() -> Iterable[Any]:
        while True:
            chunk: list[Record] | None = inbox.get()
            if chunk is None:
                return
            for line, row in chunk:
                yield parsed_row(line, row, tenant, recorded_by)

    def news(report: ImportReport) -> _Counts:
        # ``import_rows`` appends to ``rejected`` until its last progress call, and sorts
        # it only after: what is new is what lies past the part sent.
        nonlocal sent_rejections
        counts = _Counts(
            report.accepted - sent.accepted,
            report.duplicates - sent.duplicates,
            report.rejected[sent_rejections:],
        )
        sent.accepted, sent.duplicates = report.accepted, report.duplicates
        sent_rejections = len(report.rejected)
        return counts

    try:
        with ConsentLedger(env) as ledger:
            report = import_rows(
                ledger,
                rows(),
                tenant=tenant,
                batch_size=BATCH_SIZE,
                progress=lambda r: outbox.put((part, "progress", news(r))),
            )
        outbox.put((part, "done", news(report)))
    except BaseException as error:
        outbox.put((part, "failed", f"{type(error).__name__}: {error}"))
        raise
