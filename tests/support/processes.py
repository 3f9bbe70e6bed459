"""Running ``consent-ledger`` as a real process, as an operator would."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

CLI = shutil.which("consent-ledger", path=str(Path(sys.executable).parent)) or "consent-ledger"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def clean_env(**settings: str) -> dict[str, str]:
    """This process's environment without any consent-ledger settings, plus ``settings``."""
    ours = ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS", "CONSENT_LEDGER_")
    base = {k: v for k, v in os.environ.items() if not k.startswith(ours)}
    return {**base, **settings}


def run_cli(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CLI, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=60
    )


def log_lines(path: Path) -> list[dict[str, Any]]:
    """A process's complete JSON log lines (a line still being written is left for later)."""
    complete = path.read_text().split("\n")[:-1]
    return [json.loads(x) for x in complete if x.startswith("{")]


def start_cli(*args: str, env: dict[str, str], cwd: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen([CLI, *args], env=env, cwd=cwd, stdout=out, stderr=out)


def wait_healthy(base_url: str, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the process exited with {process.returncode}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise TimeoutError(f"{base_url} did not become healthy")
