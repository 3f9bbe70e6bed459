"""Split-view detection for an auditor: the last checkpoint ``verify`` accepted, per log.

``verify --state FILE`` keeps, per origin, the largest checkpoint it accepted (tree size
and root hash) in a small JSON file. A new checkpoint is accepted only if it is provably
the same log: the same root at the same size, or a consistency proof (the JSON of
``GET /v1/proofs/consistency?from=<smaller>&to=<larger>``, given with ``--consistency``)
between the two. Then the state moves forward to the larger one; it never moves back.
"""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ledger.attestation.checkpoint import Checkpoint
from ledger.attestation.proofs import verify_consistency


class SplitView(Exception):
    """The checkpoint is not provably an extension (or prefix) of the one accepted before."""


@dataclass(frozen=True)
class Accepted:
    tree_size: int
    root_hash: bytes


def load_state(path: Path) -> dict[str, Accepted]:
    """The state file (a missing file: nothing accepted yet)."""
    if not path.exists():
        return {}
    data = json.loads(path.read_text("utf-8"))
    return {
        origin: Accepted(int(entry["tree_size"]), bytes.fromhex(entry["root_hash"]))
        for origin, entry in data.items()
    }


def save_state(path: Path, state: dict[str, Accepted]) -> None:
    data = {
        origin: {"tree_size": a.tree_size, "root_hash": a.root_hash.hex()}
        for origin, a in sorted(state.items())
    }
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(data, indent=2) + "\n", "utf-8")
    temporary.replace(path)  # atomic: a crash leaves the old state or the new one


def accept(state: dict[str, Accepted], checkpoint: Checkpoint, consistency: Any) -> str:
    """Check ``checkpoint`` against the state and move the state forward; returns what was
    proven. ``SplitView`` when it is not provably the same log."""
    new = Accepted(checkpoint.tree_size, checkpoint.root_hash)
    old = state.get(checkpoint.origin)
    if old is None or old.tree_size == 0:
        state[checkpoint.origin] = new
        return "first checkpoint of this log kept"
    if old.tree_size == new.tree_size:
        if not hmac.compare_digest(old.root_hash, new.root_hash):
            raise SplitView(
                f"the log showed another root at tree size {new.tree_size} before: a split view"
            )
        return f"same checkpoint as accepted before (tree size {new.tree_size})"
    small, large = sorted((old, new), key=lambda a: a.tree_size)
    wanted = f"GET /v1/proofs/consistency?from={small.tree_size}&to={large.tree_size}"
    if consistency is None:
        raise SplitView(
            f"the last accepted checkpoint has {old.tree_size} leaves, this one "
            f"{new.tree_size}: give the consistency proof ({wanted}) with --consistency"
        )
    try:
        proof = [bytes.fromhex(h) for h in consistency["proof"]]
        sizes = (int(consistency["from"]), int(consistency["to"]))
    except (KeyError, TypeError, ValueError):
        raise SplitView(f"--consistency is not the JSON of {wanted}") from None
    if sizes != (small.tree_size, large.tree_size) or not verify_consistency(
        small.tree_size, large.tree_size, small.root_hash, large.root_hash, proof
    ):
        raise SplitView(
            f"the checkpoints of {small.tree_size} and {large.tree_size} leaves are not "
            "consistent: a split view or a rewritten log"
        )
    state[checkpoint.origin] = large
    return f"consistent with the checkpoint accepted before ({old.tree_size} leaves)"
