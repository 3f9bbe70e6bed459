"""Group commit: callers that arrive while a commit is in flight share the next one."""

from __future__ import annotations

import threading

from ledger.application.writer.group_commit import GroupCommitter, Unit
from ledger.application.writer.work import ItemResult
from ledger.domain.errors import RuleViolation


def test_units_queued_during_a_commit_share_the_next_and_fail_alone() -> None:
    groups: list[list[str]] = []
    first_commit_started = threading.Event()
    release_first_commit = threading.Event()

    def commit_group(units: list[Unit]) -> None:
        groups.append([u.tenant for u in units])
        if len(groups) == 1:
            first_commit_started.set()
            release_first_commit.wait(5)
        for unit in units:
            if unit.tenant == "bad":
                unit.error = RuleViolation("refused", code="test")
            else:
                unit.results = [
                    ItemResult(subject_id=__import__("uuid").uuid4(), reason=unit.tenant)
                ]

    committer = GroupCommitter(commit_group)
    outcomes: dict[str, object] = {}

    def call(tenant: str) -> None:
        try:
            outcomes[tenant] = committer.submit(Unit(tenant, [], atomic=True))[0].reason
        except RuleViolation as error:
            outcomes[tenant] = error.code

    first = threading.Thread(target=call, args=("first",))
    first.start()
    assert first_commit_started.wait(5)
    others = [threading.Thread(target=call, args=(t,)) for t in ("a", "bad", "b", "c")]
    for thread in others:
        thread.start()
    while True:  # wait until all four are queued behind the first commit
        with committer._lock:
            if len(committer._queue) == 4:
                break
    release_first_commit.set()
    for thread in [first, *others]:
        thread.join(5)
    assert groups[0] == ["first"]
    assert sorted(groups[1]) == ["a", "b", "bad", "c"]
    assert len(groups) == 2
    assert outcomes == {"first": "first", "a": "a", "b": "b", "c": "c", "bad": "test"}
