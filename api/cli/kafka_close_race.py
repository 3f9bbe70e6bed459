"""kafka-python 3.0's close races its own network thread: a log line, not a traceback.

``KafkaConsumer.close()`` (on our thread) sets the transport's socket to ``None`` while
kafka-python's network thread may be between "the socket is readable" and ``recv``; that
thread then logs ``AttributeError: 'NoneType' object has no attribute 'recv'`` with a full
traceback, at error level, for a socket it was closing anyway (``kafka/net/transport.py``,
``_sock_recv``; seen on SIGTERM of ``consume``). Nothing is lost: the consumer's offsets
are committed with its rows, never by the close.

This filter, on the ``kafka.net.transport`` logger only, turns exactly that record (an
``AttributeError`` of a transport its own message calls closed) into a warning that says
what happened, without the traceback. Every other record, including any other error of a
closed transport, passes unchanged.
"""

from __future__ import annotations

import logging

LOGGER = "kafka.net.transport"
SAID = "kafka-python read a socket its close had just released (a race of its close); ignored"


class KafkaCloseRace(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if (
            isinstance(error, AttributeError)
            and "(closed)" in record.getMessage()
            and "'NoneType' object has no attribute" in str(error)
        ):
            record.msg, record.args = f"{SAID}: {record.getMessage()}", None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.exc_info = record.exc_text = None
        return True


def quiet_kafka_close_race() -> None:
    logger = logging.getLogger(LOGGER)
    if not any(isinstance(f, KafkaCloseRace) for f in logger.filters):
        logger.addFilter(KafkaCloseRace())
