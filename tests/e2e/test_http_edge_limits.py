"""The HTTP edge of a real ``consent-ledger serve``: bodies, heads, slow clients and idle
connections are bounded, with no key needed to be refused (issue 13).

Raw sockets, because an HTTP client library would not send what an attacker sends.
"""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from tests.support.processes import clean_env, free_port, run_cli, start_cli, wait_healthy

MAX_BODY = 1024 * 1024


@dataclass
class Server:
    port: int
    key: str

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def connect(self) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=30)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("edge")
    port = free_port()
    env = clean_env(
        CONSENT_LEDGER_SQLITE_PATH=str(tmp / "ledger.db"),
        CONSENT_LEDGER_METRICS_PORT="0",
        CONSENT_LEDGER_SEAL_EVERY_SECONDS="0",
        CONSENT_LEDGER_MAX_BODY_BYTES=str(MAX_BODY),
        CONSENT_LEDGER_MAX_HEADER_BYTES="16384",
        CONSENT_LEDGER_HEADER_TIMEOUT_SECONDS="2",
        CONSENT_LEDGER_BODY_TIMEOUT_SECONDS="3",
        CONSENT_LEDGER_MAX_CONNECTIONS="50",
    )
    created = run_cli("keys", "create", "--tenant", "acme", "--roles", "ingest", env=env, cwd=tmp)
    assert created.returncode == 0, created.stderr
    process = start_cli("serve", "--port", str(port), env=env, cwd=tmp, log=tmp / "serve.log")
    try:
        wait_healthy(f"http://127.0.0.1:{port}", process, timeout=60)
        yield Server(port, created.stdout.strip())
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
    # Dropped and refused clients are answered and logged, never a crash.
    assert "Traceback" not in (tmp / "serve.log").read_text()


def answer_of(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (or 30 s pass)."""
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


def test_a_chunked_body_past_the_limit_is_refused_before_it_is_all_sent(server: Server) -> None:
    with server.connect() as sock:
        sock.sendall(
            b"POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + f"Authorization: Bearer {server.key}\r\n".encode()
            + b"Transfer-Encoding: chunked\r\n\r\n"
        )
        chunk = b"a" * 65536
        sent = 0
        answer = b""
        sock.settimeout(0.05)
        # Up to 40 MB, stopping as soon as the server answers.
        while sent < 40 * MAX_BODY and not answer:
            try:
                sock.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                sent += len(chunk)
                answer = sock.recv(65536)
            except TimeoutError:
                continue
            except (BrokenPipeError, ConnectionResetError):
                break
        sock.settimeout(30)
        with contextlib.suppress(ConnectionResetError):
            answer += answer_of(sock)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"body_too_large" in answer
    assert sent < 8 * MAX_BODY  # refused long before the 40 MB were sent


def test_a_content_length_past_the_limit_is_refused_without_a_key(server: Server) -> None:
    with server.connect() as sock:
        sock.sendall(
            b"POST /v1/events HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
            + f"Content-Length: {40 * MAX_BODY}\r\n\r\n".encode()
        )
        answer = answer_of(sock)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]


def test_headers_past_the_limit_are_a_431(server: Server) -> None:
    with server.connect() as sock:
        # 24 headers of 1 KB, past the 16 KB limit, and no end of the head.
        sock.sendall(
            b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X-Junk: " + b"j" * 1024 + b"\r\n" * 1
        )
        for _ in range(23):
            sock.sendall(b"X-Junk: " + b"j" * 1024 + b"\r\n")
        answer = answer_of(sock)
    assert answer.startswith(b"HTTP/1.1 431"), answer[:200]


def test_a_client_sending_its_head_a_byte_a_second_is_dropped(server: Server) -> None:
    started = time.monotonic()
    with server.connect() as sock:
        dropped = False
        for byte in b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"s" * 30:
            try:
                sock.sendall(bytes([byte]))
                time.sleep(0.5)
            except (BrokenPipeError, ConnectionResetError):
                dropped = True
                break
            sock.settimeout(0.01)
            try:
                if sock.recv(1) == b"":
                    dropped = True
                    break
            except TimeoutError:
                pass
    assert dropped
    assert time.monotonic() - started < 15  # the head timeout is 2 s here


def test_a_body_sent_a_byte_a_second_is_dropped_even_when_the_route_refuses_first(
    server: Server,
) -> None:
    started = time.monotonic()
    with server.connect() as sock:
        sock.sendall(b"POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n")
        dropped = False
        for _ in range(1000):
            try:
                sock.sendall(b"{")
                time.sleep(0.25)
            except (BrokenPipeError, ConnectionResetError):
                dropped = True
                break
            sock.settimeout(0.01)
            try:
                while True:
                    data = sock.recv(65536)
                    if data == b"":
                        dropped = True
                        break
            except TimeoutError:
                pass
            if dropped:
                break
    assert dropped
    assert time.monotonic() - started < 20  # the body timeout is 3 s here


def test_idle_connections_are_bounded_and_closed_and_a_status_read_stays_fast(
    server: Server,
) -> None:
    idle = [server.connect() for _ in range(80)]  # more than the 50 allowed
    try:
        time.sleep(0.5)
        closed = 0
        for sock in idle:
            sock.settimeout(0.01)
            try:
                if sock.recv(1) == b"":
                    closed += 1
            except TimeoutError:
                pass
            except ConnectionResetError:
                closed += 1
        assert closed >= 30  # the ones past the bound were closed at once
        time.sleep(3)  # past the head timeout: the server let go of all of them
        for sock in idle:
            sock.settimeout(5)
            with contextlib.suppress(ConnectionResetError):
                assert sock.recv(1) == b""
        started = time.monotonic()
        assert httpx.get(f"{server.url}/healthz", timeout=10).status_code == 200
        assert time.monotonic() - started < 2
    finally:
        for sock in idle:
            sock.close()
    metrics = httpx.get(f"{server.url}/metrics", timeout=10).text
    for limit in ("max_connections", "header_timeout", "body_timeout", "max_header_bytes"):
        assert f'consent_ledger_limit_refusals_total{{limit="{limit}"}}' in metrics, limit


def raw_request(server: Server, method: str, path: str) -> tuple[bytes, dict[str, str], bytes]:
    with server.connect() as sock:
        sock.sendall(f"{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        answer = answer_of(sock)
    head, _, body = answer.partition(b"\r\n\r\n")
    status, *lines = head.split(b"\r\n")
    headers = {
        k.decode().lower(): v.decode().strip() for k, _, v in (x.partition(b":") for x in lines)
    }
    return status, headers, body


@pytest.mark.parametrize("method", ["TRACE", "OPTIONS", "PATCH", "CONNECT", "PROPFIND", "DELETE"])
def test_undeclared_methods_answer_405_with_allow_and_the_error_shape(
    server: Server, method: str
) -> None:
    for path, allowed in [
        ("/v1/events", "POST"),
        ("/healthz", "GET"),
        ("/v1/subjects/whatsapp/+14155550100", "GET"),
    ]:
        status, headers, body = raw_request(server, method, path)
        assert status.startswith(b"HTTP/1.1 405"), (method, path, status)
        assert headers["allow"] == allowed
        assert json.loads(body)["error"]["code"] == "method_not_allowed"
    status, _, body = raw_request(server, method, "/v1/nothing-here")
    assert status.startswith(b"HTTP/1.1 404")
    assert json.loads(body)["error"]["code"] == "not_found"


def test_a_request_that_is_not_http_gets_a_400_in_the_error_shape(server: Server) -> None:
    status, headers, body = raw_request(server, "FOO", "/v1/events")
    assert status.startswith(b"HTTP/1.1 400")
    assert headers["content-type"] == "application/json"
    assert json.loads(body)["error"]["code"] == "malformed_request"
