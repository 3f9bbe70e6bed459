"""Checks on a reported invalidation (``consent_invalidated``): why, and the evidence.

A reassigned or disconnected number voids the consent on record (the TCPA reassigned
numbers safe harbour asks for a query of the FCC Reassigned Numbers Database before
calling or texting a number whose consent is older than its last disconnection). The
evidence names the data source, when it was queried and what it answered.
"""

from __future__ import annotations

from dataclasses import replace

from ledger.domain.commands import InvalidationReason, RecordConsent
from ledger.domain.errors import InvalidInput
from ledger.domain.validation import MAX_SHORT, SOURCE_KIND_PATTERN, check_occurred_at, check_text

INVALIDATED = "consent_invalidated"
REASONS = tuple(r.value for r in InvalidationReason)


def check_invalidation(command: RecordConsent) -> RecordConsent:
    """The command checked: a reason and a number check for ``consent_invalidated``,
    neither for any other type (raises ``InvalidInput`` naming the field)."""
    if command.type != INVALIDATED:
        if command.reason is not None:
            raise InvalidInput(
                f"reason is only for {INVALIDATED} events", field="reason", code="unexpected_field"
            )
        if command.number_check is not None:
            raise InvalidInput(
                f"number_check is only for {INVALIDATED} events",
                field="number_check",
                code="unexpected_field",
            )
        return command
    if command.reason not in REASONS:
        raise InvalidInput(
            f"reason must be one of {', '.join(REASONS)}", field="reason", code="invalid_reason"
        )
    check = command.number_check
    if check is None:
        raise InvalidInput(
            "an invalidation needs its evidence: data_source, queried_at and result",
            field="number_check",
            code="evidence_required",
        )
    if not SOURCE_KIND_PATTERN.match(check.data_source):
        raise InvalidInput(
            f"data source {check.data_source!r} must be a lowercase identifier (fcc_rnd…)",
            field="number_check.data_source",
            code="invalid_source",
        )
    check_occurred_at(check.queried_at, field="number_check.queried_at")
    if not check.result:
        raise InvalidInput(
            "the data source's answer is required", field="number_check.result", code="required"
        )
    check_text(check.result, field="number_check.result", limit=MAX_SHORT)
    if command.purposes:
        raise InvalidInput(
            "an invalidation ends every purpose; leave purposes empty",
            field="purposes",
            code="unexpected_field",
        )
    return replace(command, reason=InvalidationReason(command.reason).value)
