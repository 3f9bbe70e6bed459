"""Tenant settings in the ledger on both backends: concurrent changes chain, secrets follow."""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor

from ledger.application.consent_ledger import ConsentLedger
from ledger.application.tenants.book import TenantSettingsBook
from ledger.crypto.secret_box import SecretBox
from ledger.domain.keywords import KeywordRules
from ledger.domain.tenants.gateways import Gateway
from ledger.persistence.gateway_secrets import gateway_secret_table


def whatsapp(secret: str) -> dict[str, str]:
    return {"app_secret": secret, "verify_token": "vt", "phone_number_id": "106540352242922"}


def test_concurrent_changes_are_chained_and_the_secrets_in_force_are_the_last_ones(
    ledger: ConsentLedger,
) -> None:
    book = TenantSettingsBook(ledger, SecretBox(None))

    def configure(secret: str) -> int:
        event = book.configure_gateway("acme", Gateway.WHATSAPP, whatsapp(secret), changed_by="t")
        return event.originator_version

    with ThreadPoolExecutor(4) as pool:
        versions = list(pool.map(configure, [f"secret-{i}" for i in range(4)]))
    assert sorted(versions) == [1, 2, 3, 4]
    history = book.history("acme")
    assert [e.document["version"] for e in history] == [1, 2, 3, 4]
    for before, after in itertools.pairwise(history):
        assert after.document["prev_hash"] == before.hash
    found = book.gateway("acme", Gateway.WHATSAPP)
    assert found is not None
    config, secrets = found
    assert config.secret_id == history[-1].document["secret_id"]
    assert secrets["app_secret"] in {f"secret-{i}" for i in range(4)}
    table = gateway_secret_table(ledger.recorder)
    for entry in history[:-1]:  # every superseded configuration's secrets are gone
        assert table.select("acme", "whatsapp", entry.document["secret_id"]) is None


def test_the_ledger_classifies_with_the_rules_of_the_latest_change(ledger: ConsentLedger) -> None:
    book = TenantSettingsBook(ledger, SecretBox(None))
    assert ledger.policy_for("acme").version == 0
    rules = KeywordRules(opt_out=("STOP", "BASTA"))
    book.change_keywords("acme", rules, {}, ("marketing",), changed_by="t")
    policy = ledger.policy_for("acme")
    assert (policy.version, policy.rules.opt_out) == (1, ("STOP", "BASTA"))
    assert ledger.policy_for("globex").rules == KeywordRules()  # tenants never share rules
