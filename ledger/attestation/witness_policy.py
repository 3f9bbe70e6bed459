"""When a checkpoint counts: witnesses and a quorum, in the C2SP ``tlog-policy`` format.

The policy file (c2sp.org/tlog-policy) is line based::

    log <vkey> [<url>]
    witness <name> <vkey> [<url>]
    group <name> all|any|<k> <name>...
    quorum <name>|none

A group is witnessed when at least ``k`` of its members are (a member is a witness or an
earlier group); the checkpoint counts when the quorum's name is witnessed. ``quorum
none`` (the default: 0 of 0) needs no cosignature. ``k_of_n`` builds the same from the
``CONSENT_LEDGER_WITNESSES`` list and a number.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from ledger.crypto.cosignature import Cosigner, parse_vkey, verified_cosignatures
from ledger.crypto.signed_note import NoteError

NONE = "none"


class PolicyError(ValueError):
    """The policy text is malformed."""


@dataclass(frozen=True)
class Witness:
    name: str  # the policy's own name for it
    cosigner: Cosigner
    url: str | None = None


@dataclass(frozen=True)
class Group:
    name: str
    threshold: int
    members: tuple[str, ...]


@dataclass(frozen=True)
class WitnessPolicy:
    witnesses: tuple[Witness, ...] = ()
    groups: tuple[Group, ...] = ()
    quorum: str = NONE
    logs: tuple[str, ...] = field(default=())  # log vkeys, informative here

    @property
    def cosigners(self) -> list[Cosigner]:
        return [w.cosigner for w in self.witnesses]

    def satisfied_by(self, cosigner_names: Iterable[str]) -> bool:
        """Whether cosignatures by these cosigners (key names) meet the quorum."""
        if self.quorum == NONE:
            return True
        signed = set(cosigner_names)
        witnessed = {w.name for w in self.witnesses if w.cosigner.name in signed}
        for group in self.groups:  # each group only names earlier ones
            if sum(member in witnessed for member in group.members) >= group.threshold:
                witnessed.add(group.name)
        return self.quorum in witnessed

    def describe(self) -> str:
        if self.quorum == NONE:
            return "no witness needed"
        group = next((g for g in self.groups if g.name == self.quorum), None)
        if group is None:
            return f"witness {self.quorum}"
        return f"{group.threshold} of {len(group.members)} witnesses ({group.name})"


def k_of_n(witnesses: list[Witness], k: int) -> WitnessPolicy:
    """``k`` cosignatures among ``witnesses``; ``k = 0`` needs none."""
    if not 0 <= k <= len(witnesses):
        raise PolicyError(f"a quorum of {k} among {len(witnesses)} witnesses is impossible")
    if k == 0:
        return WitnessPolicy(witnesses=tuple(witnesses))
    group = Group("quorum", k, tuple(w.name for w in witnesses))
    return WitnessPolicy(witnesses=tuple(witnesses), groups=(group,), quorum="quorum")


def _threshold(spelled: str, members: int, line: int) -> int:
    if spelled == "all":
        return members
    if spelled == "any":
        return 1
    if not spelled.isdigit() or not 1 <= int(spelled) <= members:
        raise PolicyError(f"line {line}: threshold {spelled!r} is not all, any or 1..{members}")
    return int(spelled)


def parse_policy(text: str) -> WitnessPolicy:
    witnesses: list[Witness] = []
    groups: list[Group] = []
    logs: list[str] = []
    quorum: str | None = None
    names: set[str] = set()
    for number, raw in enumerate(text.split("\n"), start=1):
        words = raw.split()
        if not words or words[0].startswith("#"):
            continue
        keyword, args = words[0], words[1:]
        if keyword == "log" and 1 <= len(args) <= 2:
            logs.append(args[0])
        elif keyword == "witness" and 2 <= len(args) <= 3:
            name = args[0]
            if name in names or name == NONE:
                raise PolicyError(f"line {number}: the name {name!r} is already defined")
            try:
                cosigner = parse_vkey(args[1])
            except NoteError as error:
                raise PolicyError(f"line {number}: {error}") from None
            if any(w.cosigner.key == cosigner.key for w in witnesses):
                raise PolicyError(f"line {number}: witness {name!r} duplicates another's key")
            witnesses.append(Witness(name, cosigner, args[2] if len(args) == 3 else None))
            names.add(name)
        elif keyword == "group" and len(args) >= 3:
            name, members = args[0], tuple(args[2:])
            if name in names or name == NONE:
                raise PolicyError(f"line {number}: the name {name!r} is already defined")
            unknown = [m for m in members if m not in names]
            if unknown or len(set(members)) != len(members):
                raise PolicyError(f"line {number}: members must be defined above, once each")
            groups.append(Group(name, _threshold(args[1], len(members), number), members))
            names.add(name)
        elif keyword == "quorum" and len(args) == 1:
            if quorum is not None:
                raise PolicyError(f"line {number}: a policy has exactly one quorum line")
            if args[0] != NONE and args[0] not in names:
                raise PolicyError(f"line {number}: quorum {args[0]!r} is not defined above")
            quorum = args[0]
        else:
            raise PolicyError(f"line {number}: {raw.strip()[:60]!r} is not a policy line")
    if quorum is None:
        raise PolicyError("the policy has no quorum line")
    return WitnessPolicy(tuple(witnesses), tuple(groups), quorum, tuple(logs))


def quorum_failure(note: str, policy: WitnessPolicy) -> str | None:
    """Why the checkpoint ``note`` does not count under ``policy`` (None: it does)."""
    try:
        found = verified_cosignatures(note, policy.cosigners)
    except NoteError as error:
        return str(error)
    if policy.satisfied_by(found):
        return None
    names = ", ".join(sorted(found)) or "no known witness"
    return f"the checkpoint is cosigned by {names}; the policy needs {policy.describe()}"
