"""The witness set-up block of docs/notes/tlog.md (docs/readme/witness.sh), run as written:
a ledger on the embedded default and a witness, the checkpoint cosigned within seconds."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

from tests.support.processes import CLI, clean_env, free_port

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "docs" / "readme" / "witness.sh"
NOTES = ROOT / "docs" / "notes" / "tlog.md"


def test_the_witness_setup_runs_as_written_and_the_notes_quote_it(tmp_path: Path) -> None:
    assert SCRIPT.read_text() in NOTES.read_text()  # what a reader copies is what runs
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    (tmp_path / ".venv" / "bin" / "consent-ledger").symlink_to(CLI)
    env = clean_env(LEDGER_PORT=str(free_port()), WITNESS_PORT=str(free_port()))
    process = subprocess.Popen(
        ["bash", "-euo", "pipefail", "-c", SCRIPT.read_text()],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 0, err
    lines = out.splitlines()
    assert lines[0] == "consent-ledger.local/log"
    assert lines[-2].startswith("\u2014 consent-ledger.local/log ")
    assert lines[-1].startswith("\u2014 auditor.example/witness ")
    assert "witness started" in (tmp_path / "witness.log").read_text()
