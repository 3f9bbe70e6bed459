"""The README's five-minute tour, run exactly as written against a real ``serve``."""

from __future__ import annotations

import json
import re
import signal
import subprocess
from pathlib import Path

from tests.support.processes import CLI, clean_env, free_port, start_cli, wait_healthy

README = Path(__file__).resolve().parents[2] / "README.md"


def tour_script() -> str:
    text = README.read_text()
    section = text[text.index("## A five-minute tour") :]
    match = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert match, "the tour has no sh block"
    return match.group(1)


def test_every_command_of_the_tour_works(tmp_path: Path) -> None:
    port = free_port()
    env = clean_env()
    server = start_cli(
        "serve", "--port", str(port), env=env, cwd=tmp_path, log=tmp_path / "serve.log"
    )
    try:
        wait_healthy(f"http://127.0.0.1:{port}", server)
        script = (
            tour_script()
            .replace("localhost:8000", f"localhost:{port}")
            .replace(".venv/bin/consent-ledger", CLI)
        )
        # Each curl's answer on its own line, so they can be read back one by one.
        script = script.replace("curl -s", "echo; curl -s")
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)
    assert done.returncode == 0, done.stderr
    answers = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    recorded, stop, status, request, yes, history, refused = answers
    assert recorded["results"][0]["type"] == "opted_in"
    assert (stop["action"], stop["keyword"], stop["match"]) == (
        "opted_out",
        "STOP PROMOTIONS",
        "exact",
    )
    assert status["purposes"]["marketing"]["status"] == "opted_out"
    assert status["purposes"]["utility"]["status"] == "opted_in"
    assert request["request_id"]
    assert yes["action"] == "accepted"
    assert [e["type"] for e in history["events"]] == ["opted_in", "opted_out"]
    assert history["events"][1]["prev_hash"] == history["events"][0]["hash"]
    assert refused["error"]["field"] == "events[0].address"
