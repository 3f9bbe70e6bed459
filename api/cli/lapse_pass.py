"""One lapse pass of ``consent-ledger expire``: grants older than their tenant's policy.

For every tenant in ``consent_status`` with a lapse policy, and every purpose the policy
names, the opted-in rows granted long enough ago are candidates; the ledger decides each
again against the subject's folded state (``ledger/application/lapses.py``).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from ledger.application.consent_ledger import ConsentLedger
from ledger.application.lapses import LapsingSubject, lapse_due
from ledger.domain.lapses import add_months
from projections.consent_status.lapsing import granted_before, tenants
from projections.consent_status.projection import ConsentStatusProjection

# Months differ in length: candidates a few days early, the ledger decides the exact day.
MARGIN = timedelta(days=3)


def lapse_pass(
    ledger: ConsentLedger, view: ConsentStatusProjection, now: datetime, limit: int
) -> int:
    """Record the lapses due at ``now``; how many subjects got one."""
    subjects: list[LapsingSubject] = []
    for tenant in tenants(view.model):
        policy = ledger.policy_for(tenant)
        for purpose, months in sorted(policy.lapse_months.items()):
            moment = add_months(now, -months) + MARGIN
            for row in granted_before(view.model, tenant, purpose, moment, limit):
                subjects.append(LapsingSubject(tenant, row.channel, row.address))
    return len(lapse_due(ledger, subjects)) if subjects else 0
