"""``prometheus-rules.yml`` (beside ``docker-compose.yml``) alerts on what the processes
really export: every metric an expression names exists in the code, with the labels the
expression groups by, and the alerts the operator needs are there."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from prometheus_client.metrics import MetricWrapperBase

import ledger.runtime.metrics as metrics

RULES = Path(__file__).resolve().parents[2] / "prometheus-rules.yml"
PROMETHEUS_OWN = {"up"}  # set by Prometheus itself for every scrape target
DURATION = re.compile(r"^\d+[smhd]$")


def exported() -> dict[str, tuple[str, ...]]:
    """Every sample name the code exports, with its labels."""
    names: dict[str, tuple[str, ...]] = {}
    for value in vars(metrics).values():
        if not isinstance(value, MetricWrapperBase):
            continue
        name, kind, labels = value._name, value._type, tuple(value._labelnames)
        suffixes = {
            "counter": ("_total",),
            "gauge": ("",),
            "histogram": ("_bucket", "_sum", "_count"),
        }[kind]
        for suffix in suffixes:
            names[name + suffix] = labels
    return names


def rules() -> list[dict[str, Any]]:
    document = yaml.safe_load(RULES.read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def test_every_rule_is_complete() -> None:
    for rule in rules():
        assert rule["alert"].startswith("ConsentLedger"), rule
        assert rule["expr"].count("(") == rule["expr"].count(")"), rule["alert"]
        assert rule["labels"]["severity"] in {"warning", "critical"}, rule["alert"]
        assert rule["annotations"]["summary"], rule["alert"]
        if "for" in rule:
            assert DURATION.match(rule["for"]), rule["alert"]


def test_every_metric_an_alert_names_is_exported_by_the_code_with_its_labels() -> None:
    known = exported()
    for rule in rules():
        expr = rule["expr"]
        names = set(re.findall(r"\bconsent_ledger_[a-z_]+\b", expr))
        bare = set(re.findall(r"\b([a-z_]+)\s*==", expr)) - {"le"}
        assert names or (bare and bare <= PROMETHEUS_OWN), rule["alert"]
        for name in names:
            assert name in known, f"{rule['alert']}: {name} is not exported by the code"
        for grouped in re.findall(r"by \((\w+)\)", expr):
            assert all(grouped in known[name] for name in names), (rule["alert"], grouped)


def test_the_alerts_cover_silent_degradation() -> None:
    watched = " ".join(rule["expr"] for rule in rules())
    for metric in (
        "consent_ledger_publisher_stalled_seconds",
        "consent_ledger_publisher_lag_positions",
        "consent_ledger_projection_healed_events_total",
        "consent_ledger_projection_gaps_filled_total",
        "consent_ledger_dlq_messages_total",
        "consent_ledger_checkpoint_age_seconds",
        "consent_ledger_writer_unavailable_total",
    ):
        assert metric in watched, f"no alert watches {metric}"
