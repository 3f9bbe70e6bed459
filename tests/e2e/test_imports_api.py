"""Imports over HTTP and from the command line."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.conftest import Api
from tests.support.processes import clean_env, run_cli

CSV = (
    "channel,address,type,purposes,occurred_at,method\n"
    "whatsapp,+14155550100,opted_in,marketing,2024-03-01T10:00:00Z,paper_form\n"
    "whatsapp,not-a-number,opted_in,marketing,2024-03-01T10:00:00Z,\n"
)


def test_an_http_import_reports_accepted_and_rejected_rows(api: Api) -> None:
    headers = {**api.headers(), "content-type": "text/csv"}
    response = api.client.post("/v1/imports", headers=headers, content=CSV.encode())
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["rows"], report["accepted"], report["rejected_count"]) == (2, 1, 1)
    assert report["rejected"][0] == {
        "row": 3,
        "code": "invalid_address",
        "message": report["rejected"][0]["message"],
        "field": "address",
    }
    status = api.client.get("/v1/subjects/whatsapp/+14155550100?after=1", headers=api.headers())
    assert status.json()["purposes"]["marketing"]["method"] == "paper_form"


def test_an_import_needs_a_csv_body_with_the_required_columns(api: Api) -> None:
    wrong_type = api.client.post("/v1/imports", headers=api.headers(), json={"rows": []})
    assert wrong_type.status_code == 415
    headers = {**api.headers(), "content-type": "text/csv"}
    no_columns = api.client.post("/v1/imports", headers=headers, content=b"phone\n+14155550100\n")
    assert no_columns.status_code == 422
    assert no_columns.json()["error"]["code"] == "invalid_csv"
    campaign = {**api.headers("campaign"), "content-type": "text/csv"}
    assert api.client.post("/v1/imports", headers=campaign, content=CSV.encode()).status_code == 403


def test_the_cli_import_prints_a_report_and_writes_the_rejects(tmp_path: Path) -> None:
    (tmp_path / "contacts.csv").write_text(CSV)
    env = clean_env(CONSENT_LEDGER_SQLITE_PATH=str(tmp_path / "l.db"))
    done = run_cli(
        "import",
        "contacts.csv",
        "--tenant",
        "acme",
        "--rejects",
        "rejects.csv",
        env=env,
        cwd=tmp_path,
    )
    assert done.returncode == 3, done.stderr  # some rows were rejected
    report = json.loads(done.stdout)
    assert (report["accepted"], report["rejected_count"]) == (1, 1)
    assert "2/2 rows" in done.stderr
    assert (
        (tmp_path / "rejects.csv")
        .read_text()
        .splitlines()[1]
        .startswith("3,address,invalid_address")
    )
    again = run_cli("import", "contacts.csv", "--tenant", "acme", env=env, cwd=tmp_path)
    assert json.loads(again.stdout)["duplicates"] == 1
