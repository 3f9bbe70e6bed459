"""kafka-python's close racing its network thread logs one warning line, no traceback;
any other error of its transport still logs with its traceback."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from kafka.net.transport import KafkaTCPTransport

from api.cli.json_logs import JsonFormatter
from api.cli.kafka_close_race import LOGGER, quiet_kafka_close_race


@contextmanager
def transport_log() -> Iterator[io.StringIO]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger(LOGGER)
    logger.addHandler(handler)
    try:
        yield out
    finally:
        logger.removeHandler(handler)


def lines(out: io.StringIO) -> list[dict[str, str]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_a_read_of_a_socket_the_close_released_is_one_warning_without_a_traceback() -> None:
    quiet_kafka_close_race()
    quiet_kafka_close_race()  # configured twice (serve's app and the CLI): one filter
    assert len(logging.getLogger(LOGGER).filters) == 1
    # What kafka-python's network thread does when close() released the socket between
    # its readiness and its recv: the library's own code path, the library's own record.
    transport = KafkaTCPTransport(net=None, sock=None)
    transport._closed = True
    with transport_log() as out:
        _, error = transport._sock_recv()
    assert error is not None  # the library still closes that connection
    [line] = lines(out)
    assert line["level"] == "warning"
    assert "race of its close" in line["message"]
    assert "exception" not in line
    assert "Traceback" not in out.getvalue()


def test_any_other_transport_error_keeps_its_level_and_traceback() -> None:
    quiet_kafka_close_race()

    class Broken:
        def recv(self, size: int) -> bytes:
            raise OSError("connection reset by peer")

        def getpeername(self) -> tuple[str, int]:
            raise OSError("not connected")

    open_transport = KafkaTCPTransport(net=None, sock=None)
    with transport_log() as out:
        open_transport._sock_recv()  # not closed: an AttributeError nobody expected
        open_transport._sock = Broken()
        open_transport._closed = True
        open_transport._sock_recv()  # closed, but another error
    first, second = lines(out)
    assert first["level"] == "error"
    assert "AttributeError" in first["exception"]
    assert second["level"] == "error"
    assert "connection reset by peer" in second["exception"]
