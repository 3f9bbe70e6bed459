"""``consent-ledger retention report|erase`` on both backends: subjects past their
retention_until per jurisdiction are listed (no address), a dry run writes nothing, and
erasure crypto-shreds them without deleting any event."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from ledger.application.consent_ledger import ConsentLedger
from ledger.application.erasure import erase_personal_data
from ledger.domain.times import format_time
from ledger.runtime.storage_settings import StorageSettings
from tests.support.commands import now, opt_in
from tests.support.processes import clean_env, run_cli

US, INDIA, ERASED, OTHER = "+14155550100", "+919876543210", "+14155550101", "+14155550102"


def env_of(storage: StorageSettings) -> dict[str, str]:
    if storage.database_url is not None:
        return clean_env(DATABASE_URL=storage.database_url.get_secret_value())
    return clean_env(CONSENT_LEDGER_SQLITE_PATH=str(storage.sqlite_path))


def retention(storage: StorageSettings, cwd: Path, *args: str) -> list[dict[str, Any]]:
    done = run_cli("retention", *args, env=env_of(storage), cwd=cwd)
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines() if line]


def log_size(storage: StorageSettings) -> int:
    ledger = ConsentLedger(storage.eventsourcing_env())
    try:
        return ledger.recorder.max_notification_id() or 0
    finally:
        ledger.close()


def test_due_subjects_are_reported_and_erased_by_crypto_shredding(
    storage: StorageSettings, tmp_path: Path
) -> None:
    # Given subjects in the US (4 years), in India (7 years), one erased, one of globex
    ledger = ConsentLedger(storage.eventsourcing_env())
    try:
        for address in (US, INDIA, ERASED):
            ledger.record(opt_in(address))
        ledger.record(opt_in(OTHER, tenant="globex"))
        erase_personal_data(ledger, "acme", "whatsapp", ERASED)
        us_id = ledger.state_of("acme", "whatsapp", US).id
        india_id = ledger.state_of("acme", "whatsapp", INDIA).id
    finally:
        ledger.close()
    in_5_years = format_time(now() + timedelta(days=5 * 366))
    in_8_years = format_time(now() + timedelta(days=8 * 366))
    # Then nobody is due today; in 5 years the US subject is; in 8 years India's too
    assert retention(storage, tmp_path, "report") == []
    due = retention(storage, tmp_path, "report", "--tenant", "acme", "--as-of", in_5_years)
    assert [(row["subject_id"], row["jurisdiction"]) for row in due] == [(str(us_id), "US")]
    assert "14155550100" not in json.dumps(due)
    later = retention(storage, tmp_path, "report", "--tenant", "acme", "--as-of", in_8_years)
    assert {row["subject_id"] for row in later} == {str(us_id), str(india_id)}
    # When a dry run is asked: it says what it would erase, and writes nothing
    size = log_size(storage)
    dry = retention(storage, tmp_path, "erase", "--dry-run", "--as-of", in_5_years)
    assert {(row["tenant"], row["erased"]) for row in dry} == {
        ("acme", "dry-run"),
        ("globex", "dry-run"),  # without --tenant: every tenant
    }
    assert log_size(storage) == size
    # When erasure runs: the subject is crypto-shredded, one event added, none deleted
    erased = retention(storage, tmp_path, "erase", "--tenant", "acme", "--as-of", in_5_years)
    assert [(row["subject_id"], row["erased"]) for row in erased] == [(str(us_id), "yes")]
    assert log_size(storage) == size + 1
    ledger = ConsentLedger(storage.eventsourcing_env())
    try:
        history = ledger.history("acme", "whatsapp", US)
        assert [e.document["type"] for e in history.entries] == ["opted_in", "personal_data_erased"]
        assert history.entries[-1].document["reason"] == "retention_expired"
        assert all(e.disclosures is None for e in history.entries)  # unreadable now
    finally:
        ledger.close()
    # ... and it is due no more; the other tenant's subject is still due
    left = retention(storage, tmp_path, "report", "--as-of", in_5_years)
    assert [row["tenant"] for row in left] == ["globex"]


def test_a_bad_moment_is_refused(storage: StorageSettings, tmp_path: Path) -> None:
    done = run_cli("retention", "report", "--as-of", "soon", env=env_of(storage), cwd=tmp_path)
    assert done.returncode == 2
    assert "--as-of" in done.stderr
