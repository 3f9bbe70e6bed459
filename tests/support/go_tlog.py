"""Building the Go verifier of tests/support/go_tlog_verifier with Debian's Go.

It uses ``golang.org/x/mod/sumdb/tlog`` and ``sumdb/note`` from the Debian package
``golang-golang-x-mod-dev`` (under /usr/share/gocode), offline, in GOPATH mode. When Go
or the package is missing, they are installed with apt-get (as root, else through sudo),
as ``make bench-tools`` installs wrk.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

GOCODE = Path("/usr/share/gocode")
TLOG_PACKAGE = GOCODE / "src/golang.org/x/mod/sumdb/tlog"
SOURCE = Path(__file__).parent / "go_tlog_verifier" / "main.go"
PACKAGES = ("golang-go", "golang-golang-x-mod-dev")


def ensure_go() -> str:
    """The ``go`` binary, with the x/mod sources; installs them when missing."""
    go = shutil.which("go")
    if go is None or not TLOG_PACKAGE.is_dir():
        sudo = [] if os.geteuid() == 0 else ["sudo"]
        subprocess.run(
            [*sudo, "apt-get", "install", "-y", "--no-install-recommends", *PACKAGES],
            check=True,
            capture_output=True,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
            timeout=600,
        )
        go = shutil.which("go")
    if go is None:
        raise RuntimeError(f"go is missing after installing {' '.join(PACKAGES)}")
    return go


def build_verifier(workdir: Path) -> Path:
    """The compiled verifier, built offline against Debian's x/mod."""
    go = ensure_go()
    binary = workdir / "tlogverify"
    env = {
        **os.environ,
        "GO111MODULE": "off",
        "GOPATH": str(GOCODE),
        "GOCACHE": str(workdir / "gocache"),
        "GOFLAGS": "",
        "GOPROXY": "off",
        "CGO_ENABLED": "0",
    }
    subprocess.run(
        [go, "build", "-o", str(binary), str(SOURCE)],
        check=True,
        capture_output=True,
        env=env,
        cwd=workdir,
        timeout=600,
    )
    return binary
