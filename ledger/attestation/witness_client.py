"""The log side of C2SP ``tlog-witness``: submit the latest checkpoint to each witness.

After every sealing pass, each configured witness that has not cosigned the latest
checkpoint gets it, with a consistency proof from the size it last cosigned (learnt from
the stored cosignatures, or from the witness's own ``409 text/x.tlog.size`` answer). Its
cosignature is verified with its configured key and stored beside the checkpoint. A
witness that is down is simply asked again after the next pass: the latest checkpoint
not yet cosigned by a witness is that witness's outbox. Every submission is counted in
``consent_ledger_witness_submissions_total{witness,outcome}`` and logged when it fails.
"""

from __future__ import annotations

import base64
import logging
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

from prometheus_client import Counter, Gauge

from ledger.application.core import LedgerCore
from ledger.attestation.proofs import consistency_steps, keys_of, proof_from
from ledger.attestation.storage import open_cosignature_store
from ledger.attestation.witness_policy import Witness, WitnessPolicy
from ledger.attestation.witness_settings import WitnessSettings
from ledger.crypto.cosignature import verified_cosignatures
from ledger.crypto.signed_note import NoteError
from ledger.persistence.cosignatures import CosignatureStore
from ledger.persistence.merkle_store import MerkleStore, StoredCheckpoint

log = logging.getLogger("ledger.witnessing")

SUBMISSIONS = Counter(
    "consent_ledger_witness_submissions_total",
    "Checkpoints submitted to witnesses, by witness and outcome "
    "(cosigned, unavailable, refused, conflict, bad_cosignature; failed: a bug, witness *)",
    ["witness", "outcome"],
)
COSIGNED_SIZE = Gauge(
    "consent_ledger_witness_cosigned_tree_size",
    "The largest tree size each witness has cosigned",
    ["witness"],
)
SIZE_CONTENT_TYPE = "text/x.tlog.size"


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    content_type: str
    body: str


Post = Callable[[str, bytes, float], HttpAnswer]


def http_post(url: str, body: bytes, timeout: float) -> HttpAnswer:
    """POST ``body``; any HTTP status is an answer, a network failure raises ``OSError``."""
    # http(s) only: the settings refuse any other scheme.
    request = urllib.request.Request(url, data=body, method="POST")  # noqa: S310
    request.add_header("Content-Type", "text/plain; charset=utf-8")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return HttpAnswer(
                response.status, response.headers.get_content_type(), response.read().decode()
            )
    except urllib.error.HTTPError as error:
        return HttpAnswer(error.code, error.headers.get_content_type(), error.read().decode())


def submission_url(witness: Witness) -> str:
    return f"{(witness.url or '').rstrip('/')}/add-checkpoint"


class WitnessSubmitter:
    def __init__(
        self,
        merkle: MerkleStore,
        cosignatures: CosignatureStore,
        policy: WitnessPolicy,
        *,
        timeout: float = 5.0,
        post: Post = http_post,
    ) -> None:
        self.merkle = merkle
        self.cosignatures = cosignatures
        self.witnesses = [w for w in policy.witnesses if w.url]
        self.timeout = timeout
        self.post = post
        self._known: dict[str, int] = {}  # the size each witness last told us

    def submit_latest(self) -> dict[str, str]:
        """Outcome per witness for the latest checkpoint (``already`` if it had cosigned)."""
        latest = self.merkle.latest_checkpoint()
        if latest is None or not self.witnesses:
            return {}
        have = self.cosignatures.lines(latest.tree_size, latest.root_hash)
        outcomes = {}
        for witness in self.witnesses:
            if witness.cosigner.name in have:
                outcomes[witness.name] = "already"
                continue
            outcome = self._submit(witness, latest)
            SUBMISSIONS.labels(witness.name, outcome).inc()
            outcomes[witness.name] = outcome
        return outcomes

    def _submit(self, witness: Witness, checkpoint: StoredCheckpoint) -> str:
        name = witness.cosigner.name
        if name not in self._known:
            self._known[name] = self.cosignatures.largest_cosigned(name)
        for _attempt in range(2):  # the second after a 409 told us the witness's size
            old = self._known[name]
            body = self._body(old, checkpoint)
            try:
                answer = self.post(submission_url(witness), body, self.timeout)
            except OSError as error:
                log.warning(
                    "witness unavailable; the checkpoint is submitted again after the next pass",
                    extra={"witness": name, "tree_size": checkpoint.tree_size, "error": str(error)},
                )
                return "unavailable"
            if answer.status == 200:
                return self._store(witness, checkpoint, answer.body)
            if answer.status == 409 and answer.content_type == SIZE_CONTENT_TYPE:
                size = int(answer.body.strip() or 0)
                self._known[name] = size
                if size <= checkpoint.tree_size:
                    continue
                log.error(
                    "the witness has cosigned a larger tree of this log than the latest "
                    "checkpoint: a rollback or another log under the same name",
                    extra={
                        "witness": name,
                        "witness_size": size,
                        "tree_size": checkpoint.tree_size,
                    },
                )
                return "conflict"
            log.error(
                "the witness refused the checkpoint",
                extra={
                    "witness": name,
                    "status": answer.status,
                    "answer": answer.body[:200],
                    "tree_size": checkpoint.tree_size,
                    "old_size": old,
                },
            )
            return "refused"
        return "conflict"

    def _body(self, old: int, checkpoint: StoredCheckpoint) -> bytes:
        proof: list[bytes] = []
        if 0 < old < checkpoint.tree_size:
            steps = consistency_steps(old, checkpoint.tree_size)
            proof = proof_from(steps, self.merkle.nodes(keys_of(steps)).__getitem__)
        lines = "".join(base64.b64encode(p).decode("ascii") + "\n" for p in proof)
        return f"old {old}\n{lines}\n{checkpoint.note}".encode()

    def _store(self, witness: Witness, checkpoint: StoredCheckpoint, body: str) -> str:
        try:
            found = verified_cosignatures(checkpoint.note + body, [witness.cosigner])
        except NoteError as error:
            found, reason = {}, str(error)
        else:
            reason = "no cosignature by its configured key"
        cosignature = found.get(witness.cosigner.name)
        if cosignature is None:
            log.error(
                "the witness's answer holds no valid cosignature",
                extra={"witness": witness.name, "error": reason},
            )
            return "bad_cosignature"
        self.cosignatures.add(
            checkpoint.tree_size, checkpoint.root_hash, witness.cosigner.name, cosignature.line
        )
        self._known[witness.cosigner.name] = checkpoint.tree_size
        COSIGNED_SIZE.labels(witness.name).set(checkpoint.tree_size)
        log.info("cosigned", extra={"witness": witness.name, "tree_size": checkpoint.tree_size})
        return "cosigned"


def witness_submitter(ledger: LedgerCore, merkle: MerkleStore) -> WitnessSubmitter | None:
    """The submitter the environment asks for (``CONSENT_LEDGER_WITNESSES`` or
    ``CONSENT_LEDGER_WITNESS_POLICY``), or None when no witness has a URL. Raises
    ``PolicyError`` on a malformed setting."""
    settings = WitnessSettings()
    policy = settings.policy()
    if not any(w.url for w in policy.witnesses):
        return None
    log.info(
        "witnesses configured",
        extra={"witnesses": [w.url for w in policy.witnesses], "quorum": policy.describe()},
    )
    return WitnessSubmitter(
        merkle, open_cosignature_store(ledger), policy, timeout=settings.timeout_seconds
    )


class WitnessWorker:
    """Runs a submitter on a thread of its own, woken after each sealing pass, so a slow
    or unreachable witness never delays sealing (``serve``'s in-process loop)."""

    def __init__(self, submitter: WitnessSubmitter) -> None:
        self.submitter = submitter
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="witnesses", daemon=True)
        self._thread.start()

    def notify(self) -> None:
        self._wake.set()

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait()
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                self.submitter.submit_latest()
            except Exception:  # a bug must not end witnessing silently: logged, retried
                SUBMISSIONS.labels("*", "failed").inc()
                log.exception("submitting to the witnesses failed; retried after the next pass")
