"""The README's five-minute tour and its offline verification steps, run exactly as
written against a real ``serve`` on the embedded default (what ``make serve`` runs).

The command blocks live in ``docs/readme/`` (``tour.sh``, ``verify.sh``); the documents
in ``QUOTED_IN`` quote them verbatim, so what a reader copies is what this test runs.
The scripts run unchanged: in a directory where ``.venv/bin/consent-ledger`` is the
installed command, with ``CONSENT_LEDGER_PORT`` naming the server's port.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.processes import CLI, clean_env, free_port, start_cli, wait_healthy

ROOT = Path(__file__).resolve().parents[2]
TOUR = ROOT / "docs" / "readme" / "tour.sh"
VERIFY = ROOT / "docs" / "readme" / "verify.sh"
# The production block, run as written by tests/e2e/test_production_snippet.py.
PRODUCTION = ROOT / "docs" / "readme" / "production.sh"
WITNESS = ROOT / "docs" / "readme" / "witness.sh"
# Where the blocks are quoted; README.md belongs here once it quotes them.
QUOTED_IN = (ROOT / "README.md",)


@dataclass
class Answer:
    body: dict[str, Any]
    status: int


@dataclass
class Tour:
    answers: list[Answer]
    verified: str  # what ``consent-ledger verify`` printed
    base_url: str
    directory: Path
    log: Path


def answers_of(output: str) -> tuple[list[Answer], list[str]]:
    """Each curl's answer (a JSON line, then its status line), and the other lines."""
    answers: list[Answer] = []
    rest: list[str] = []
    lines = [line for line in output.splitlines() if line.strip()]
    index = 0
    while index < len(lines):
        line = lines[index]
        if line.startswith("{"):
            answers.append(Answer(json.loads(line), int(lines[index + 1])))
            index += 2
        else:
            rest.append(line)
            index += 1
    return answers, rest


@pytest.fixture(scope="module")
def tour(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tour]:
    """``make serve`` in a fresh directory, then the tour and the verification steps."""
    directory = tmp_path_factory.mktemp("tour")
    (directory / ".venv" / "bin").mkdir(parents=True)
    (directory / ".venv" / "bin" / "consent-ledger").symlink_to(CLI)
    port = str(free_port())
    env = clean_env(CONSENT_LEDGER_PORT=port)
    log = directory / "serve.log"
    server = start_cli("serve", env=env, cwd=directory, log=log)
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base_url, server)
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", TOUR.read_text() + VERIFY.read_text()],
            cwd=directory,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        answers, rest = answers_of(done.stdout)
        yield Tour(answers, "\n".join(rest), base_url, directory, log)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)


def test_every_command_of_the_tour_answers_as_the_readme_says(tour: Tour) -> None:
    recorded, stop, outbox, status, request, yes, history, refused = tour.answers
    assert [a.status for a in tour.answers] == [200, 200, 200, 200, 201, 200, 200, 422]
    assert recorded.body["results"][0]["type"] == "opted_in"
    assert (stop.body["action"], stop.body["keyword"], stop.body["match"]) == (
        "opted_out",
        "STOP PROMOTIONS",
        "exact",
    )
    assert status.body["purposes"]["marketing"]["status"] == "opted_out"
    assert status.body["purposes"]["utility"]["status"] == "opted_in"
    assert request.body["request_id"]
    assert yes.body["action"] == "accepted"
    assert [e["type"] for e in history.body["events"]] == ["opted_in", "opted_out"]
    assert history.body["events"][1]["prev_hash"] == history.body["events"][0]["hash"]
    assert refused.body["error"]["field"] == "events[0].address"
    # The outbox shows the scoped confirmation, naming what was withdrawn
    [confirmation] = outbox.body["messages"]
    assert confirmation["kind"] == "confirmation"
    assert confirmation["to"] == "+14155550100"
    assert (confirmation["change"], confirmation["purposes"]) == ("opted_out", ["marketing"])
    assert confirmation["text"].startswith("You will get no more marketing messages from us.")


def test_the_verification_steps_verify_a_bundle_on_the_embedded_default(tour: Tour) -> None:
    # Nobody ran `consent-ledger seal`: serve sealed in-process
    assert tour.verified.startswith("OK: 2 events (hash chain v1-v2), 2 inclusion proofs")
    pem = (tour.directory / "ledger.pub").read_text()
    assert pem.startswith("-----BEGIN PUBLIC KEY-----\n")
    # The key file serve created on first start, beside the SQLite file, readable by its owner only
    key = tour.directory / "consent-ledger.signing-key.pem"
    assert (tour.directory / "consent-ledger.db").is_file()
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    # ... and never printed or logged
    private_body = key.read_text().splitlines()[1]
    assert "PRIVATE" not in tour.log.read_text()
    assert private_body not in tour.log.read_text()


def test_sealing_in_process_is_counted_and_its_age_is_in_the_metrics(tour: Tour) -> None:
    metrics = httpx.get(f"{tour.base_url}/metrics", timeout=5).text
    values = {
        line.split(" ")[0]: float(line.split(" ")[1])
        for line in metrics.splitlines()
        if line.startswith("consent_ledger_checkpoint")
    }
    assert values['consent_ledger_checkpoint_passes_total{outcome="signed"}'] >= 2
    assert values["consent_ledger_checkpoint_tree_size"] >= 2
    assert 0 <= values["consent_ledger_checkpoint_age_seconds"] < 60
    sealed = [
        json.loads(line)
        for line in tour.log.read_text().splitlines()
        if '"message": "sealed"' in line
    ]
    assert sealed
    assert all(entry["in_process"] for entry in sealed)


def test_the_blocks_the_tests_run_are_the_ones_the_documents_quote() -> None:
    # The tour and verification (here), the production block
    # (tests/e2e/test_production_snippet.py) and the witness set-up
    # (tests/e2e/test_witness_setup.py): README quotes each verbatim.
    for document in QUOTED_IN:
        text = document.read_text()
        for block in (TOUR, VERIFY, PRODUCTION, WITNESS):
            assert f"```sh\n{block.read_text()}```" in text, f"{document} must quote {block}"


def test_a_restarted_server_keeps_its_signing_key(tmp_path: Path) -> None:
    env = clean_env(CONSENT_LEDGER_PORT=str(free_port()))
    keys: list[str] = []
    for run in range(2):
        server = start_cli("serve", env=env, cwd=tmp_path, log=tmp_path / f"serve{run}.log")
        try:
            base_url = f"http://127.0.0.1:{env['CONSENT_LEDGER_PORT']}"
            wait_healthy(base_url, server)
            answer = httpx.get(f"{base_url}/v1/public-key", timeout=5)
            assert answer.status_code == 200
            keys.append(answer.json()["public_key_pem"])
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=20)
    assert keys[0] == keys[1]  # the key file was read again, never overwritten
    assert os.listdir(tmp_path).count("consent-ledger.signing-key.pem") == 1
