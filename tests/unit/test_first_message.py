"""Ask on first message, as a pure rule: only a new subject's unmatched message asks."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ledger.domain.commands import Notice
from ledger.domain.consent_status import SubjectState
from ledger.domain.decisions import classify_message, decide_first_message
from ledger.domain.errors import InvalidInput
from ledger.domain.keywords import NO_MATCH
from ledger.domain.tenants.first_message import FirstMessageRequest, parse_first_message_request
from ledger.domain.tenants.policy import TenantPolicy
from ledger.domain.validation import check_method, check_tenant_methods
from ledger.events import OptedIn, OptInRequested
from tests.support.builders import ADDRESS, SUBJECT, at, chain_all, draft
from tests.support.commands import message

ASK = FirstMessageRequest(("marketing",), Notice("welcome", "3", "Reply YES"), "Acme")
POLICY = TenantPolicy(first_message=ASK)


def asks(state: SubjectState, text: str, ask: FirstMessageRequest | None = ASK) -> list[str]:
    hello = message(ADDRESS, text, message_id="wamid.1")
    match = classify_message(state, hello, POLICY)
    drafts = decide_first_message(state, hello, match, ask, now=at(0), policy=POLICY)
    return [d.cls.type_name for d in drafts]


def test_a_new_subjects_unmatched_message_asks_with_the_tenants_template() -> None:
    new = SubjectState(id=SUBJECT, tenant="acme", channel="whatsapp")
    hello = message(ADDRESS, "Hello there", message_id="wamid.1")
    [request] = decide_first_message(new, hello, NO_MATCH, ASK, now=at(0), policy=POLICY)
    assert request.cls is OptInRequested
    assert request.purposes == ("marketing",)
    assert (request.source.kind, request.source.id) == ("message", "wamid.1")
    assert (request.evidence.method, request.evidence.triggered_by) == ("first_message", "wamid.1")
    assert request.evidence.notice == ASK.template
    assert request.expires_at == at(0) + POLICY.request_window


def test_nothing_is_asked_when_off_for_a_keyword_or_for_a_known_subject() -> None:
    new = SubjectState(id=SUBJECT, tenant="acme", channel="whatsapp")
    assert asks(new, "Hello", ask=None) == []
    assert asks(new, "STOP") == []
    assert asks(new, "HELP") == []
    known, _ = chain_all([draft(OptedIn, purposes=("utility",))])
    assert asks(known, "Hello") == []
    assert asks(new, "Hello") == ["opt_in_requested"]


def test_the_setting_needs_a_template_and_checks_its_values() -> None:
    template = {"id": "welcome", "version": "1", "text": "Reply YES"}
    parsed = parse_first_message_request(purposes=None, template=template, business_name="Acme")
    assert parsed.purposes == ("marketing",)
    assert FirstMessageRequest.from_dict(parsed.to_dict()) == parsed
    for bad in (
        {"template": None, "business_name": "Acme"},
        {"template": {**template, "text": ""}, "business_name": "Acme"},
        {"template": template, "business_name": " "},
    ):
        with pytest.raises(InvalidInput):
            parse_first_message_request(purposes=["marketing"], **bad)  # type: ignore[arg-type]


def test_capture_methods_are_the_built_in_ones_plus_the_tenants_own() -> None:
    assert check_method("missed_call") == "missed_call"
    assert check_method("kiosk", extra={"kiosk"}) == "kiosk"
    with pytest.raises(InvalidInput) as refused:
        check_method("kiosk", field="method")
    assert (refused.value.code, refused.value.field) == ("invalid_method", "method")
    assert check_tenant_methods(["pos_tablet", "kiosk", "kiosk"]) == ("kiosk", "pos_tablet")
    for bad in (["Kiosk"], ["k"], ["api"], ["kiosk!"]):
        with pytest.raises(InvalidInput):
            check_tenant_methods(bad)


def test_a_message_from_another_source_kind_asks_under_that_source() -> None:
    new = SubjectState(id=SUBJECT, tenant="acme", channel="whatsapp")
    hello = replace(message(ADDRESS, "Hi", message_id="SM1"), source_kind="message")
    [request] = decide_first_message(new, hello, NO_MATCH, ASK, now=at(0), policy=POLICY)
    assert request.source.id == "SM1"
