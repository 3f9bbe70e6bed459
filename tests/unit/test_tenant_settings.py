"""A tenant's settings: buttons, texts, the policy they make, and secrets at rest."""

from __future__ import annotations

import base64
import secrets

import pytest

from ledger.crypto.chain import ChainHead, event_hash, link
from ledger.crypto.secret_box import SecretBox, SecretsSettings, SecretsUnavailable, fingerprint
from ledger.domain.errors import InvalidInput
from ledger.domain.keywords import Intent, MatchKind
from ledger.domain.tenants.buttons import ButtonAction, ButtonMapping, match_button, parse_buttons
from ledger.domain.tenants.gateways import Gateway, split_fields
from ledger.domain.tenants.policy import TenantPolicy
from ledger.domain.tenants.reply_texts import (
    DEFAULT_OPTED_OUT,
    DEFAULT_OPTED_OUT_PURPOSES,
    ReplyTexts,
)
from ledger.domain.tenants.tenant_settings import fold_settings
from ledger.events import GENESIS_HASH
from ledger.tenants.events import NO_CHANNEL, ReplyTextsChanged, settings_id
from tests.support.builders import T0

BUTTONS = parse_buttons(
    {
        "yes-btn": "accept",
        "no-btn": "reject",
        "sub-btn": "opt_in",
        "promo-stop": {"action": "opt_out", "purposes": ["marketing"]},
        "stop-all": "opt_out",
        "help-btn": "help",
    }
)


@pytest.mark.parametrize(
    ("payload", "pending", "intent", "purposes"),
    [
        ("yes-btn", True, Intent.ACCEPT, None),
        ("yes-btn", False, Intent.OPT_IN, None),  # an answer with nothing pending is an opt-in
        ("no-btn", True, Intent.REJECT, None),
        ("no-btn", False, Intent.OPT_OUT, None),  # ... and a decline an opt-out
        ("sub-btn", True, Intent.ACCEPT, None),
        ("promo-stop", False, Intent.OPT_OUT, ("marketing",)),
        ("stop-all", True, Intent.OPT_OUT, None),
        ("help-btn", False, Intent.HELP, None),
    ],
)
def test_a_mapped_button_means_its_action(
    payload: str, pending: bool, intent: Intent, purposes: tuple[str, ...] | None
) -> None:
    match = match_button(BUTTONS, payload, pending=pending)
    assert match is not None
    assert (match.intent, match.match, match.purposes) == (intent, MatchKind.BUTTON, purposes)


def test_an_unmapped_button_is_left_to_the_keyword_rules() -> None:
    assert match_button(BUTTONS, "something-else", pending=True) is None
    assert TenantPolicy().button_match("yes-btn", pending=True) is None


def test_bad_button_settings_name_the_field() -> None:
    with pytest.raises(InvalidInput) as unknown:
        parse_buttons({"b1": "maybe"})
    assert unknown.value.field == "buttons.b1.action"
    with pytest.raises(InvalidInput) as scoped:
        parse_buttons({"b1": {"action": "accept", "purposes": ["marketing"]}})
    assert scoped.value.field == "buttons.b1.purposes"
    assert parse_buttons({"b1": {"action": "opt_out"}}) == {
        "b1": ButtonMapping(ButtonAction.OPT_OUT)
    }


def test_texts_update_keeps_what_is_not_given_and_refuses_unknown_names() -> None:
    texts = ReplyTexts().updated({"help": "Call 555-0100"})
    assert texts.help == "Call 555-0100"
    assert texts.opted_out == ReplyTexts().opted_out
    assert texts.updated({"opted_in": ""}).opted_in == ""  # empty: no reply
    with pytest.raises(InvalidInput) as refused:
        texts.updated({"goodbye": "x"})
    assert refused.value.field == "texts.goodbye"


def test_gateway_fields_split_into_public_settings_and_secrets() -> None:
    public, secret = split_fields(
        Gateway.WHATSAPP, {"app_secret": "s", "verify_token": "v", "phone_number_id": "1"}
    )
    assert public == {"phone_number_id": "1"}
    assert secret == {"app_secret": "s", "verify_token": "v"}
    with pytest.raises(InvalidInput) as missing:
        split_fields(Gateway.TWILIO, {"auth_token": "t"})
    assert missing.value.field == "webhook_url"
    with pytest.raises(InvalidInput) as relative:
        split_fields(Gateway.TWILIO, {"auth_token": "t", "webhook_url": "/v1/webhooks/twilio/a"})
    assert relative.value.field == "webhook_url"
    with pytest.raises(InvalidInput) as extra:
        split_fields(Gateway.GUPSHUP, {"app_name": "a", "token": "t", "password": "p"})
    assert extra.value.field == "password"


def test_secrets_are_encrypted_under_the_key_and_bound_to_their_row() -> None:
    key = base64.b64encode(secrets.token_bytes(32)).decode()
    box = SecretBox.from_settings(SecretsSettings(CONSENT_LEDGER_SECRETS_KEY=key))
    scheme, sealed = box.encrypt({"app_secret": "hunter2"}, b"acme/whatsapp/1")
    assert scheme == "aes256gcm"
    assert "hunter2" not in sealed
    assert box.decrypt(scheme, sealed, b"acme/whatsapp/1") == {"app_secret": "hunter2"}
    with pytest.raises(SecretsUnavailable):
        box.decrypt(scheme, sealed, b"other/whatsapp/1")  # moved to another row
    with pytest.raises(SecretsUnavailable):
        SecretBox(None).decrypt(scheme, sealed, b"acme/whatsapp/1")  # key not configured
    with pytest.raises(SecretsUnavailable):
        SecretBox(secrets.token_bytes(32)).decrypt(scheme, sealed, b"acme/whatsapp/1")


def test_without_a_key_secrets_are_stored_in_clear_and_a_bad_key_is_refused() -> None:
    box = SecretBox.from_settings(SecretsSettings())
    scheme, stored = box.encrypt({"token": "t"}, b"ctx")
    assert (scheme, box.decrypt(scheme, stored, b"ctx")) == ("plain", {"token": "t"})
    with pytest.raises(ValueError, match="32 bytes"):
        SecretBox.from_settings(SecretsSettings(CONSENT_LEDGER_SECRETS_KEY="c2hvcnQ="))


def test_a_fingerprint_names_a_secret_without_revealing_it() -> None:
    salt = secrets.token_bytes(16)
    assert fingerprint(salt, "hunter2") == fingerprint(salt, "hunter2")
    assert fingerprint(salt, "hunter2") != fingerprint(salt, "hunter3")
    assert fingerprint(secrets.token_bytes(16), "hunter2") != fingerprint(salt, "hunter2")
    assert "hunter2" not in fingerprint(salt, "hunter2")


def test_a_withdrawal_confirmation_names_what_was_withdrawn() -> None:
    texts = ReplyTexts()
    assert texts.withdrawal(["marketing"], all_purposes=False).startswith(
        "You will get no more marketing messages from us."
    )
    assert "marketing, offers and daily news" in texts.withdrawal(
        ["marketing", "offers", "daily_news"], all_purposes=False
    )
    assert texts.withdrawal(["marketing"], all_purposes=True) == texts.opted_out


@pytest.mark.parametrize(
    ("opted_out", "scoped"),
    [
        # The default text: scoped opt-outs get the new scoped default
        (DEFAULT_OPTED_OUT, DEFAULT_OPTED_OUT_PURPOSES),
        # A text the tenant chose was used for every opt-out: it still is
        ("Bye from Acme.", "Bye from Acme."),
        # ... and a confirmation the tenant turned off stays off
        ("", ""),
    ],
)
def test_texts_stored_before_scoped_confirmations_read_as_they_meant(
    opted_out: str, scoped: str
) -> None:
    # Given a texts event of the old shape (four texts, no opted_out_purposes)
    old = {"opted_out": opted_out, "opted_in": "In.", "rejected": "No.", "help": "Help."}
    head = ChainHead(settings_id("acme"), 0, GENESIS_HASH, "acme", NO_CHANNEL)
    event = link(ReplyTextsChanged, head, recorded_at=T0, changed_by="old", texts=old)
    # Its hashed document is exactly the old one
    assert event.document()["texts"] == old
    assert event.hash == event_hash(event)
    # When the settings are folded, a scoped opt-out gets what any opt-out got before
    texts = fold_settings("acme", [event]).texts
    assert texts.opted_out == opted_out
    assert texts.opted_out_purposes == scoped
