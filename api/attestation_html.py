"""An attestation bundle as a printable HTML report: verification status, consent, timeline
(what the person saw and what they sent), and the signed checkpoint. Every value from the
ledger is escaped; the page has no scripts and loads nothing."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

SENT_METHODS = frozenset({"keyword", "button"})

STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:2rem;color:#111}
h1{font-size:1.5rem;margin:0 0 .25rem}h2{font-size:1.1rem;margin-top:1.8rem}
table{border-collapse:collapse;width:100%}th,td{border:1px solid #bbb;padding:.3rem .45rem;
text-align:left;vertical-align:top}th{background:#f1f1f1}
.ok{border:2px solid #1a7f37;background:#e9f7ee;padding:.6rem}
.failed{border:2px solid #b42318;background:#fdecea;padding:.6rem}
.mono{font-family:ui-monospace,monospace;font-size:12px;word-break:break-all}
pre{white-space:pre-wrap;background:#f6f6f6;padding:.6rem}
@media print{body{margin:0}h2{break-after:avoid}tr{break-inside:avoid}}
"""


def _e(value: Any) -> str:
    return "" if value is None else escape(str(value))


def _seen_and_sent(entry: Mapping[str, Any], values: Mapping[str, str]) -> tuple[str, str]:
    evidence = entry.get("evidence") or {}
    source = entry.get("source") or {}
    text = values.get("text")
    by_person = source.get("kind") == "message" or evidence.get("method") in SENT_METHODS
    seen = [values["notice_text"]] if "notice_text" in values else []
    sent: list[str] = []
    if text is not None:
        (sent if by_person else seen).append(text)
    if evidence.get("button_payload"):
        sent.append(f"[button] {evidence['button_payload']}")
    return "<br>".join(_e(s) for s in seen), "<br>".join(_e(s) for s in sent)


def _timeline(bundle: Mapping[str, Any], erased: bool) -> str:
    disclosed: dict[str, dict[str, str]] = {}
    for item in bundle.get("disclosures", []):
        disclosed.setdefault(item["event_id"], {})[item["field"]] = item["value"]
    rows = []
    for entry in bundle.get("events", []):
        values = disclosed.get(str(entry.get("event_id")), {})
        seen, sent = _seen_and_sent(entry, values)
        if erased and not values and entry.get("commitments"):
            seen = sent = "<em>erased</em>"
        kind = entry.get("type") or ("missing" if entry.get("missing") else "unreadable")
        evidence = entry.get("evidence") or {}
        how = " / ".join(
            str(v) for v in (evidence.get("method"), (entry.get("source") or {}).get("kind")) if v
        )
        purposes = (
            "all purposes" if entry.get("all_purposes") else ", ".join(entry.get("purposes") or [])
        )
        rows.append(
            "<tr>"
            f"<td>{_e(entry.get('version'))}</td><td>{_e(entry.get('recorded_at'))}</td>"
            f"<td>{_e(entry.get('occurred_at'))}</td><td><strong>{_e(kind)}</strong></td>"
            f"<td>{_e(purposes)}</td><td>{_e(how)}</td><td>{_e(evidence.get('keyword'))}</td>"
            f"<td>{seen}</td><td>{sent}</td><td>{_e(entry.get('leaf_index'))}</td>"
            "</tr>"
        )
    head = (
        "<tr><th>v</th><th>Recorded</th><th>Occurred</th><th>Event</th><th>Purposes</th>"
        "<th>Captured by</th><th>Keyword</th><th>What the person saw</th>"
        "<th>What the person sent</th><th>Leaf</th></tr>"
    )
    return f"<table>{head}{''.join(rows)}</table>"


def _consent(bundle: Mapping[str, Any]) -> str:
    purposes = (bundle.get("consent") or {}).get("purposes") or {}
    if not purposes:
        return "<p>No consent on record.</p>"
    rows = "".join(
        f"<tr><td>{_e('all purposes (*)' if name == '*' else name)}</td>"
        f"<td><strong>{_e(p['status'])}</strong></td><td>{_e(p['since'])}</td>"
        f"<td>v{_e(p['version'])} <span class=mono>{_e(p['event_id'])}</span></td></tr>"
        for name, p in purposes.items()
    )
    return (
        "<table><tr><th>Purpose</th><th>Status</th><th>Since</th><th>Decided by</th></tr>"
        f"{rows}</table>"
    )


def _revocations(bundle: Mapping[str, Any]) -> str:
    rows = bundle.get("revocations")
    if rows is None:
        return ""
    if not rows:
        return "<h2>Revocations</h2><p>No opt-out on record.</p>"
    body = "".join(
        f"<tr><td>{_e(r['purposes'])}</td><td>{_e(r['received_at_gateway'])}</td>"
        f"<td>{_e(r['received_at_ledger'])} (position {_e(r['effective_position'])})</td>"
        f"<td>{_e(r['business_days'])} of {_e(r['limit_business_days'])}</td>"
        f"<td>{_e(r['confirmations'])}</td>"
        f"<td>{_e(r['first_receipt_campaign_id'] or 'none yet')}"
        f"{' (included!)' if r['first_receipt_included'] else ''}</td>"
        f"<td><strong>{_e(r['flags'] or 'honoured')}</strong></td></tr>"
        for r in rows
    )
    return (
        "<h2>Revocations</h2><table><tr><th>Purposes</th><th>Received (gateway)</th>"
        "<th>Effective (ledger)</th><th>Business days (limit)</th><th>Confirmations</th>"
        f"<th>First campaign after</th><th>Flags</th></tr>{body}</table>"
    )


def _retained(bundle: Mapping[str, Any]) -> str:
    until = bundle.get("retention_until")
    return f"<br>Records kept until {_e(until)} (tenant retention policy)" if until else ""


def render_html(bundle: Mapping[str, Any]) -> str:
    subject = bundle.get("subject") or {}
    verification = bundle.get("verification") or {}
    checkpoint = bundle.get("checkpoint") or {}
    erased = any(e.get("type") == "personal_data_erased" for e in bundle.get("events", []))
    address = subject.get("address") or ("erased" if erased else "not disclosed")
    status_class = "ok" if verification.get("verified") else "failed"
    moment = bundle.get("as_of") or bundle.get("generated_at")
    when = f"as of {_e(moment)} (ledger time)" if bundle.get("as_of") else f"at {_e(moment)}"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Consent attestation {_e(subject.get("subject_id"))}</title><style>{STYLE}</style></head>
<body>
<h1>Consent attestation</h1>
<p>{_e(subject.get("channel"))} {_e(address)} &middot; tenant {_e(subject.get("tenant"))}
&middot; subject <span class=mono>{_e(subject.get("subject_id"))}</span><br>
Report generated {_e(bundle.get("generated_at"))}{_retained(bundle)}</p>
<h2>Verification</h2>
<div class="{status_class}">{_e(verification.get("summary"))}</div>
<h2>Consent {when}</h2>
{_consent(bundle)}
<h2>Timeline</h2>
{_timeline(bundle, erased)}
{_revocations(bundle)}
<h2>Signed checkpoint</h2>
<p>Log {_e(checkpoint.get("origin"))}, tree size {_e(checkpoint.get("tree_size"))}, signed
{_e(checkpoint.get("time"))} by key id <span class=mono>{_e(bundle.get("public_key_id"))}</span>;
root hash <span class=mono>{_e(checkpoint.get("root_hash"))}</span>.</p>
<pre>{_e(checkpoint.get("note"))}</pre>
<p>To check this independently, fetch the bundle as JSON and run
<code>consent-ledger verify bundle.json --public-key ledger.pub</code> with the ledger's
public key.</p>
</body></html>
"""
