"""A database fault in the middle of a gateway callback loses nothing and doubles nothing.

The fault is real: PostgreSQL refuses the insert of one subject's events (a trigger), as
it would during an outage, after the earlier items of the payload were recorded.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.serve_settings import ServeSettings
from ledger.domain.subjects import subject_id
from ledger.runtime.storage_settings import StorageSettings
from tests.e2e.conftest import Api, issue_keys
from tests.support.gateways import wa_messages, wa_payload, wa_text
from tests.support.webhooks import configure, history, post_whatsapp

ALICE, BOB, CAROL = "16315551181", "16315551182", "16315551183"


@pytest.fixture
def api(pg_storage: StorageSettings) -> Iterator[Api]:
    keys = issue_keys(pg_storage)
    with TestClient(create_app(ServeSettings(), pg_storage)) as client:
        yield Api(client, keys)


def refuse_writes_for(url: str, number: str) -> None:
    sid = subject_id("acme", "whatsapp", f"+{number}")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "CREATE FUNCTION outage() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'simulated outage'; END $$"
        )
        conn.execute(
            "CREATE TRIGGER outage BEFORE INSERT ON consentledger_events FOR EACH ROW "
            f"WHEN (NEW.originator_id = '{sid}'::uuid) EXECUTE FUNCTION outage()"
        )


def recover(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TRIGGER outage ON consentledger_events")


def test_a_callback_cut_short_answers_503_and_its_retry_completes_it(
    api: Api, pg_storage: StorageSettings
) -> None:
    configure(api, "whatsapp")
    url = pg_storage.database_url.get_secret_value()  # type: ignore[union-attr]
    payload = wa_payload(
        wa_messages(
            wa_text("wamid.A", ALICE, "STOP"),
            wa_text("wamid.B", BOB, "STOP"),
            wa_text("wamid.C", CAROL, "STOP"),
        )
    )
    refuse_writes_for(url, BOB)
    cut = post_whatsapp(api, payload)
    assert cut.status_code == 503, cut.text
    assert cut.headers["Retry-After"] == "1"
    assert (cut.json()["error"]["code"], cut.json()["recorded"]) == ("unavailable", 1)
    assert [len(history(api, f"+{n}")) for n in (ALICE, BOB, CAROL)] == [1, 0, 0]

    recover(url)
    retry = post_whatsapp(api, payload)  # Meta retries the same payload
    assert retry.status_code == 200, retry.text
    assert retry.json() == {"recorded": 2, "duplicates": 1, "ignored": 0}
    assert [len(history(api, f"+{n}")) for n in (ALICE, BOB, CAROL)] == [1, 1, 1]
