"""Recording lapses: ``ConsentLapsed`` for grants older than the tenant's policy allows.

The caller finds candidates in a read model (``consent_status``); the decision is made
again here against the subject's state folded from the ledger and the tenant's current
policy, so a grant renewed meanwhile, or a policy changed meanwhile, records nothing.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from ledger.application.core import LedgerCore
from ledger.application.writer.work import Decider, Decision, WorkItem, recorded
from ledger.domain.addresses import parse_channel
from ledger.domain.consent_status import SubjectState
from ledger.domain.lapses import decide_lapses
from ledger.domain.records import Recorded
from ledger.domain.subjects import SubjectRef
from ledger.domain.tenants.policy import TenantPolicy

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LapsingSubject:
    tenant: str
    channel: str
    address: str


def lapse_due(ledger: LedgerCore, subjects: Sequence[LapsingSubject]) -> list[Recorded]:
    """Record the lapses each subject's grants reached by now."""
    by_tenant: dict[str, list[WorkItem]] = defaultdict(list)
    policies: dict[str, TenantPolicy] = {}
    for subject in dict.fromkeys(subjects):  # one item per subject, whatever its purposes
        policy = policies.get(subject.tenant)
        if policy is None:
            policy = policies[subject.tenant] = ledger.policy_for(subject.tenant)
        ref = SubjectRef(subject.tenant, parse_channel(subject.channel), subject.address)
        by_tenant[subject.tenant].append(WorkItem(ref, _decider(policy)))
    lapsed: list[Recorded] = []
    for tenant, items in by_tenant.items():
        for result in ledger.run(tenant, items, atomic=False):
            if result.error is not None:
                log.warning(
                    "grant not lapsed",
                    extra={"subject_id": str(result.subject_id), "error": result.error.message},
                )
                continue
            answer = recorded(result)
            if answer is not None and not answer.duplicate:
                lapsed.append(answer)
    return lapsed


def _decider(policy: TenantPolicy) -> Decider:
    def decide(state: SubjectState, now: datetime) -> Decision:
        return Decision(decide_lapses(state, policy, now))

    return decide
