"""One person with several numbers: a contact id links them (both backends, over HTTP).

The contact id is the business's identifier of a person: it is committed and sealed like
a number, never stored in clear in a document; the index that finds a contact's numbers
is keyed per tenant; erasure removes the link.
"""

from __future__ import annotations

import hashlib
import itertools
import sqlite3
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.application.consent_ledger import ConsentLedger
from ledger.attestation.checkpointer import Checkpointer
from ledger.attestation.verification import verify_bundle
from ledger.runtime.storage_settings import StorageSettings
from tests.e2e.conftest import Api
from tests.support.attestation import new_sealer

CONTACT = "cust-10042"
MOBILE, OFFICE, OTHER = "+14155550100", "+14155550101", "+14155550199"


@pytest.fixture
def sealer(storage: StorageSettings) -> Iterator[Checkpointer]:
    ledger = ConsentLedger(storage.eventsourcing_env())
    yield new_sealer(ledger, Ed25519PrivateKey.generate())
    ledger.close()


def opt_in(address: str, form: str, *, contact: str | None = CONTACT) -> dict[str, Any]:
    event: dict[str, Any] = {
        "type": "opted_in",
        "channel": "whatsapp",
        "address": address,
        "purposes": ["marketing"],
        "occurred_at": "2026-11-21T09:00:00Z",
        "source": {"kind": "web_form", "id": form},
        "evidence": {"method": "web_form", "text": "Send me offers on these numbers"},
    }
    if contact is not None:
        event["contact_id"] = contact
    return event


def post_events(api: Api, *events: dict[str, Any]) -> Any:
    return api.client.post("/v1/events", json={"events": list(events)}, headers=api.headers())


def contact(api: Api, suffix: str = "", role: str = "all", **params: Any) -> Any:
    return api.client.get(
        f"/v1/contacts/{CONTACT}{suffix}", params=params, headers=api.headers(role)
    )


def marketing(subject: dict[str, Any]) -> str:
    status: str = subject["purposes"]["marketing"]["status"]
    return status


def test_one_capture_covers_several_numbers_atomically_and_reads_back_by_contact(
    api: Api,
) -> None:
    # One bad number refuses the whole capture: nothing of it is stored.
    refused = post_events(api, opt_in(MOBILE, "f1"), opt_in("not-a-number", "f1b"))
    assert refused.status_code == 422
    assert refused.json()["error"]["field"] == "events[1].address"
    assert contact(api).status_code == 404

    stored = post_events(api, opt_in(MOBILE, "f2"), opt_in(OFFICE, "f3"))
    assert stored.status_code == 200, stored.text
    position = max(r["position"] for r in stored.json()["results"])
    post_events(api, opt_in(OTHER, "f4", contact=None))  # another person

    found = contact(api, after=position)
    assert found.status_code == 200, found.text
    subjects = found.json()["subjects"]
    assert sorted((s["address"], marketing(s)) for s in subjects) == [
        (MOBILE, "opted_in"),
        (OFFICE, "opted_in"),
    ]
    assert contact(api, role="campaign").status_code == 200
    assert contact(api, role="ingest").status_code == 200  # as for a subject's status


def test_a_stop_on_one_number_withdraws_that_number_only(api: Api) -> None:
    post_events(api, opt_in(MOBILE, "f1"), opt_in(OFFICE, "f2"))
    stop = {"channel": "whatsapp", "from": OFFICE, "text": "STOP", "message_id": "wamid.s1"}
    answer = api.client.post("/v1/messages/inbound", json=stop, headers=api.headers())
    assert answer.status_code == 200, answer.text
    subjects = contact(api, after=answer.json()["position"]).json()["subjects"]
    assert {s["address"]: marketing(s) for s in subjects} == {
        MOBILE: "opted_in",
        OFFICE: "opted_out",
    }


def test_history_and_attestation_by_contact_one_chain_per_number(
    api: Api, sealer: Checkpointer
) -> None:
    post_events(api, opt_in(MOBILE, "f1"), opt_in(OFFICE, "f2"))
    request = {
        "channel": "whatsapp",
        "address": MOBILE,
        "purposes": ["alerts"],
        "template": {"id": "alerts", "version": "1", "text": "Reply YES for alerts"},
        "business_name": "Acme",
        "contact_id": CONTACT,
    }
    asked = api.client.post("/v1/optin-requests", json=request, headers=api.headers("ingest"))
    assert asked.status_code == 201, asked.text

    history = contact(api, "/history", role="auditor")
    assert history.status_code == 200, history.text
    chains = {s["address"]: s["events"] for s in history.json()["subjects"]}
    assert [e["type"] for e in chains[MOBILE]] == ["opted_in", "opt_in_requested"]
    assert [e["type"] for e in chains[OFFICE]] == ["opted_in"]
    for events in chains.values():
        assert events[0]["prev_hash"] == "0" * 64  # each number is a chain of its own
        for before, after in itertools.pairwise(events):
            assert after["prev_hash"] == before["hash"]
        # The contact id is committed in each document and disclosed beside it only.
        assert "contact_id" in events[0]["commitments"]
        assert events[0]["disclosures"]["contact_id"] == CONTACT
        assert CONTACT not in str({k: v for k, v in events[0].items() if k != "disclosures"})

    sealer.checkpoint_once()
    key = sealer.key.public_key()
    bundles = contact(api, "/attestation", role="auditor").json()["bundles"]
    assert sorted(b["subject"]["address"] for b in bundles) == [MOBILE, OFFICE]
    assert all(verify_bundle(bundle, key).ok for bundle in bundles)
    assert contact(api, "/attestation", role="campaign").status_code == 403


def test_another_tenant_cannot_find_the_contact(api: Api) -> None:
    post_events(api, opt_in(MOBILE, "f1"), opt_in(OFFICE, "f2"))
    other = api.client.get(f"/v1/contacts/{CONTACT}", headers=api.headers("other_tenant"))
    assert (other.status_code, other.json()["error"]["code"]) == (404, "contact_not_found")


def test_erasure_by_contact_erases_every_number_and_the_link(api: Api) -> None:
    post_events(api, opt_in(MOBILE, "f1"), opt_in(OFFICE, "f2"))
    erased = api.client.delete(
        f"/v1/contacts/{CONTACT}/personal-data", headers=api.headers("admin")
    )
    assert erased.status_code == 200, erased.text
    assert [e["type"] for e in erased.json()["erased"]] == ["personal_data_erased"] * 2
    assert contact(api).status_code == 404  # the link is gone
    for address in (MOBILE, OFFICE):
        history = api.client.get(
            f"/v1/subjects/whatsapp/{address}/history", headers=api.headers("auditor")
        ).json()
        assert all(e["disclosures"] is None for e in history["events"])


def test_bad_contact_ids_are_refused_naming_the_field(api: Api) -> None:
    for bad in ("", "x" * 129, "tab\there"):
        answer = post_events(api, opt_in(MOBILE, "f1", contact=bad))
        assert answer.status_code == 422, (bad, answer.text)
        assert answer.json()["error"]["field"] == "events[0].contact_id"
    assert contact(api).status_code == 404


def test_the_contact_id_is_never_stored_in_clear_nor_as_a_plain_hash(
    api: Api, storage: StorageSettings
) -> None:
    post_events(api, opt_in(MOBILE, "f1"), opt_in(OFFICE, "f2"))
    plain_hash = hashlib.sha256(CONTACT.encode()).hexdigest()
    dump = _database_text(storage)
    assert CONTACT not in dump
    assert plain_hash not in dump
    assert "_contacts" in dump  # the index is there, keyed


def _database_text(storage: StorageSettings) -> str:
    """Every table's every row, as text (bytea and blobs decoded leniently)."""
    parts: list[str] = []
    if storage.database_url is None:
        with sqlite3.connect(storage.sqlite_path) as db:
            tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
            for table in tables:
                parts.append(table)
                for row in db.execute(f'SELECT * FROM "{table}"'):  # noqa: S608
                    parts.extend(_text(v) for v in row)
        return "\n".join(parts)
    with psycopg.connect(storage.database_url.get_secret_value()) as db:
        tables = [
            r[0]
            for r in db.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname NOT IN "
                "('pg_catalog', 'information_schema')"
            )
        ]
        for table in tables:
            parts.append(table)
            for row in db.execute(f'SELECT * FROM "{table}"'):  # noqa: S608
                parts.extend(_text(v) for v in row)
    return "\n".join(parts)


def _text(value: object) -> str:
    if isinstance(value, bytes | memoryview):
        return bytes(value).decode("utf-8", "replace")
    return str(value)


def test_an_import_links_the_rows_of_a_contact(api: Api) -> None:
    csv = (
        "channel,address,type,purposes,occurred_at,contact_id\n"
        f"whatsapp,{MOBILE},opted_in,marketing,2024-03-01T10:00:00Z,{CONTACT}\n"
        f"sms,{OFFICE},opted_in,marketing,2024-03-01T10:00:00Z,{CONTACT}\n"
        f"whatsapp,{OTHER},opted_in,marketing,2024-03-01T10:00:00Z,\n"
        f"whatsapp,+14155550198,opted_in,marketing,2024-03-01T10:00:00Z,bad\x01id\n"
    )
    headers = {**api.headers(), "content-type": "text/csv"}
    report = api.client.post("/v1/imports", headers=headers, content=csv.encode()).json()
    assert (report["accepted"], report["rejected_count"]) == (3, 1)
    assert report["rejected"][0]["field"] == "contact_id"
    subjects = contact(api).json()["subjects"]
    assert sorted((s["channel"], s["address"]) for s in subjects) == [
        ("sms", OFFICE),
        ("whatsapp", MOBILE),
    ]
