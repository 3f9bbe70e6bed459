"""Domain errors. Every failure the ledger reports is a ``LedgerError``.

Each error carries a stable machine ``code`` and, where one input caused it, the
``field`` that names that input, so the HTTP layer can answer with a precise 4xx.
"""

from __future__ import annotations

from datetime import datetime


class LedgerError(Exception):
    """Base class of every error the ledger raises on purpose."""

    code = "ledger_error"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code  # a finer code than the class's own (e.g. "too_long")

    def at(self, prefix: str) -> LedgerError:
        """Return this error with its field placed under ``prefix`` (e.g. ``events[3]``)."""
        self.field = f"{prefix}.{self.field}" if self.field else prefix
        return self


class InvalidInput(LedgerError):
    """A value is malformed or not allowed."""

    code = "invalid_input"


class InvalidAddress(InvalidInput):
    code = "invalid_address"


class UnknownChannel(InvalidInput):
    code = "unknown_channel"


class RuleViolation(LedgerError):
    """The command is well formed but the subject's history does not allow it."""

    code = "rule_violation"


class RequestPending(RuleViolation):
    """An opt-in request is already pending and younger than the request window."""

    code = "request_pending"

    def __init__(self, message: str, *, retry_after: datetime, field: str | None = None):
        super().__init__(message, field=field)
        self.retry_after = retry_after


class SourceConflict(RuleViolation):
    """The same source id was used before for a different subject or event type."""

    code = "source_conflict"


class SubjectErased(RuleViolation):
    code = "subject_erased"


class NotCaughtUp(LedgerError):
    """A read asked to see a ledger position that the read model has not applied yet."""

    code = "not_caught_up"


class Unavailable(LedgerError):
    """The ledger's database could not be reached; nothing was stored."""

    code = "unavailable"


class DatabaseAway(Unavailable):
    """``Unavailable`` because the database was away (or a pool still reconnecting), not
    because of contention or a refusal: each answer is counted
    (``consent_ledger_database_away_answers_total``)."""


def join_field(prefix: str, name: str) -> str:
    """A field's path under ``prefix`` (``events[3]`` + ``source.id``)."""
    return f"{prefix}.{name}" if prefix else name


class Overloaded(Unavailable):
    """The writer's queue is full: refused at once, nothing was stored; retry shortly."""

    code = "overloaded"
