"""An attestation bundle's events as CSV: one row per event, disclosed values beside them.

Cells that a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``, tab, CR at
the start) are prefixed with ``'``; E.164 addresses (``+`` and digits) are left as they are.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from typing import Any

from api.csv_cells import neutralise

PERSONAL_FIELDS = ("address", "text", "notice_text", "ip", "user_agent", "profile_name")
COLUMNS = (
    "version",
    "leaf_index",
    "event_id",
    "type",
    "recorded_at",
    "occurred_at",
    "purposes",
    "all_purposes",
    "source_kind",
    "source_id",
    "method",
    "keyword",
    "notice_id",
    "notice_version",
    "request_id",
    *PERSONAL_FIELDS,
    "prev_hash",
    "hash",
    "leaf_hash",
    "verification",
)


def safe_cell(value: Any) -> str:
    if value is None:
        return ""
    text = str(value).lower() if isinstance(value, bool) else str(value)
    return neutralise(text)


def row_verification(entry: Mapping[str, Any], failed_version: int | None) -> str:
    version = entry.get("version")
    if failed_version is None:
        return "verified"
    if not isinstance(version, int) or version < failed_version:
        return "verified"
    return "FAILED" if version == failed_version else "not checked"


def render_csv(bundle: Mapping[str, Any]) -> str:
    disclosed: dict[str, dict[str, str]] = {}
    for item in bundle.get("disclosures", []):
        disclosed.setdefault(item["event_id"], {})[item["field"]] = item["value"]
    verification = bundle.get("verification") or {}
    failure = verification.get("failure") or {}
    failed_version = failure.get("version") if not verification.get("verified") else None
    if not verification.get("verified") and failed_version is None:
        failed_version = 0  # the checkpoint itself failed: no event is verified
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for entry in bundle.get("events", []):
        evidence = entry.get("evidence") or {}
        notice = evidence.get("notice") or {}
        source = entry.get("source") or {}
        values = disclosed.get(str(entry.get("event_id")), {})
        kind = entry.get("type") or ("(missing)" if entry.get("missing") else "(unreadable)")
        row: dict[str, Any] = {
            "version": entry.get("version"),
            "leaf_index": entry.get("leaf_index"),
            "event_id": entry.get("event_id"),
            "type": kind,
            "recorded_at": entry.get("recorded_at"),
            "occurred_at": entry.get("occurred_at"),
            "purposes": " ".join(entry.get("purposes") or []),
            "all_purposes": entry.get("all_purposes"),
            "source_kind": source.get("kind"),
            "source_id": source.get("id"),
            "method": evidence.get("method"),
            "keyword": evidence.get("keyword"),
            "notice_id": notice.get("id"),
            "notice_version": notice.get("version"),
            "request_id": entry.get("request_id"),
            **{name: values.get(name) for name in PERSONAL_FIELDS},
            "prev_hash": entry.get("prev_hash"),
            "hash": entry.get("hash"),
            "leaf_hash": entry.get("leaf_hash"),
            "verification": row_verification(entry, failed_version),
        }
        writer.writerow([safe_cell(row[column]) for column in COLUMNS])
    return out.getvalue()
