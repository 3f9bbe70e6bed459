"""A subject's consent as standard records: ISO/IEC TS 27560 records in W3C DPV JSON-LD
(one per purpose), and a Kantara Consent Receipt v1.1 for each grant.

Both are built from the subject's ledger events and link back to them: every part of a
27560 record and every Kantara receipt names the event id, its hash and ledger position
(``cl:`` terms, and ``ledger`` beside each receipt), so they are checked against the
attestation bundle. No address appears: the subject is named by its subject id.

Event types and DPV consent statuses:

=============================  =============================================
``opt_in_requested``           ``dpv:ConsentRequested``
``opted_in``, ``opt_in_accepted``  ``dpv:ConsentGiven``, or ``dpv:RenewedConsentGiven``
                               after an earlier grant of the purpose
``opt_in_rejected``            ``dpv:ConsentRefused``
``opted_out``                  ``dpv:ConsentWithdrawn``
``opt_in_request_expired``     ``dpv:ConsentRequestDeferred`` (no answer in time)
``opt_in_request_undeliverable``  ``dpv:ConsentUnknown`` (the request never arrived)
``consent_invalidated``        ``dpv:ConsentInvalidated`` (reassigned or disconnected)
``consent_lapsed``             ``dpv:ConsentExpired`` (a grant past the lapse policy)
``held_opt_out_released``      ``dpv:ConsentWithdrawn`` (a held opt-out, released)
=============================  =============================================
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, uuid5

from ledger.application.core import LedgerCore
from ledger.crypto.encryption import readable_disclosures
from ledger.domain.compliance_policy import DEFAULT, CompliancePolicy, jurisdiction_of
from ledger.domain.errors import RuleViolation
from ledger.domain.subjects import SubjectRef
from ledger.domain.times import format_time
from ledger.events import ConsentEvent

CONTEXT = {
    "dpv": "https://w3id.org/dpv#",
    "dct": "http://purl.org/dc/terms/",
    "pd": "https://w3id.org/dpv/pd#",
    "loc": "https://w3id.org/dpv/loc#",
    "cl": "https://consent-ledger.example/ns#",
}
PROFILE = "https://w3id.org/dpv/schema/dpv-27560#record"
KANTARA_VERSION = "KI-CR-v1.1.0"
STATUSES = {
    "opt_in_requested": "dpv:ConsentRequested",
    "opted_in": "dpv:ConsentGiven",
    "opt_in_accepted": "dpv:ConsentGiven",
    "opt_in_rejected": "dpv:ConsentRefused",
    "opted_out": "dpv:ConsentWithdrawn",
    "opt_in_request_expired": "dpv:ConsentRequestDeferred",
    "opt_in_request_undeliverable": "dpv:ConsentUnknown",
    "consent_invalidated": "dpv:ConsentInvalidated",
    "consent_lapsed": "dpv:ConsentExpired",
    "held_opt_out_released": "dpv:ConsentWithdrawn",
}
GRANTS = frozenset({"opted_in", "opt_in_accepted"})
KANTARA_CONTROLLER = ("name", "contact", "email", "phone", "address", "policy_url")
# A record's id is a UUIDv5 of the subject id and the purpose.
RECORD_NAMESPACE = UUID("4e0b2d7a-6c19-5f3e-8a41-b7d95c0e2f18")


class ControllerNotConfigured(RuleViolation):
    code = "controller_not_configured"


@dataclass(frozen=True)
class LedgerLink:
    event: ConsentEvent
    position: int

    def to_json(self) -> dict[str, Any]:
        return {
            "event_id": str(self.event.event_id),
            "hash": self.event.hash,
            "position": self.position,
            "subject_id": str(self.event.originator_id),
            "version": self.event.originator_version,
        }


@dataclass(frozen=True)
class SubjectConsent:
    """What the records are made of: the subject's consent events, read once."""

    subject: SubjectRef
    events: list[LedgerLink]
    jurisdiction: str

    def purposes(self) -> list[str]:
        named = {p for link in self.events for p in link.event.purposes}
        return sorted(named)

    def last_event_at(self) -> datetime:
        return max(link.event.timestamp for link in self.events)


def read_consent(ledger: LedgerCore, subject: SubjectRef) -> SubjectConsent:
    links = [
        LedgerLink(event, item.position)
        for item in ledger.store.select_positioned(subject.id)
        if isinstance(event := ledger.ledger_event(item.stored), ConsentEvent)
    ]
    key = ledger.store.data_keys([subject.id]).get(subject.id)
    address = next(
        (
            d.value
            for link in links
            for d in readable_disclosures(link.event, key) or []
            if d.field == "address"
        ),
        None,
    )
    return SubjectConsent(subject, links, jurisdiction_of(address))


def dpv_records(consent: SubjectConsent, policy: CompliancePolicy) -> dict[str, Any]:
    """The subject's 27560 records, one per purpose, as one JSON-LD document."""
    return {
        "@context": CONTEXT,
        "@graph": [_record(consent, policy, purpose) for purpose in consent.purposes()],
    }


def _names(event: ConsentEvent, purpose: str) -> bool:
    return event.all_purposes or purpose in event.purposes


def _record(consent: SubjectConsent, policy: CompliancePolicy, purpose: str) -> dict[str, Any]:
    parts: list[dict[str, Any]] = []
    granted = False
    for link in consent.events:
        event = link.event
        status = STATUSES.get(event.type_name)
        if status is None or not _names(event, purpose):
            continue
        if event.type_name in GRANTS:
            status = "dpv:RenewedConsentGiven" if granted else status
            granted = True
        parts.append(_part(link, status))
    record_id = uuid5(RECORD_NAMESPACE, f"{consent.subject.id}\x1f{purpose}")
    controller = policy.controller.get("name") or _business_name(consent) or consent.subject.tenant
    record: dict[str, Any] = {
        "@id": f"urn:uuid:{record_id}",
        "@type": "dpv:ConsentRecord",
        "dct:identifier": str(record_id),
        "dct:conformsTo": PROFILE,
        "dct:created": parts[0]["dct:date"],
        "dct:modified": parts[-1]["dct:date"],
        "dpv:hasDataSubject": {"@id": f"urn:uuid:{consent.subject.id}", "@type": "dpv:DataSubject"},
        "dpv:hasDataController": {"@type": "dpv:DataController", "dpv:hasName": controller},
        "dpv:hasJurisdiction": _jurisdiction(consent.jurisdiction),
        "dpv:hasLegalBasis": "dpv:Consent",
        "dpv:hasPurpose": {
            "@type": "dpv:Purpose",
            "dct:title": purpose,
            "cl:channel": consent.subject.channel.value,
        },
        "dpv:hasPersonalData": "pd:PhoneNumber",
        "dpv:hasConsentStatus": parts[-1]["@type"],
        "dct:hasPart": parts,
        "cl:retentionUntil": format_time(retention_until(consent, policy)),
    }
    return record


def _part(link: LedgerLink, status: str) -> dict[str, Any]:
    event = link.event
    part: dict[str, Any] = {
        "@id": f"urn:uuid:{event.event_id}",
        "@type": status,
        "dpv:isIndicatedAtTime": format_time(event.occurred_at),
        "dct:date": format_time(event.timestamp),
        "cl:eventType": event.type_name,
        "cl:method": event.evidence.get("method"),
        "cl:hash": event.hash,
        "cl:position": link.position,
        "cl:version": event.originator_version,
    }
    notice = event.evidence.get("notice")
    if isinstance(notice, Mapping):
        part["dpv:hasNotice"] = {
            "dct:identifier": str(notice.get("id")),
            "dct:hasVersion": str(notice.get("version")),
        }
    return part


def _jurisdiction(code: str) -> str:
    return "cl:unknown" if code == DEFAULT else f"loc:{code}"


def _business_name(consent: SubjectConsent) -> str | None:
    for link in reversed(consent.events):
        name = link.event.evidence.get("business_name")
        if isinstance(name, str) and name:
            return name
    return None


def retention_until(consent: SubjectConsent, policy: CompliancePolicy) -> datetime:
    return policy.retention_until(consent.jurisdiction, consent.last_event_at())


def kantara_receipts(consent: SubjectConsent, policy: CompliancePolicy) -> list[dict[str, Any]]:
    """A Kantara Consent Receipt v1.1 for each grant, each beside its ledger link."""
    controller = policy.controller
    missing = [
        f
        for f in ("name", "contact", "email", "phone", "address", "policy_url")
        if not controller.get(f)
    ]
    if missing:
        raise ControllerNotConfigured(
            "a Kantara receipt names the controller: set controller "
            f"{', '.join(missing)} in CONSENT_LEDGER_COMPLIANCE_POLICY for this tenant",
            field="controller",
        )
    until = format_time(retention_until(consent, policy))
    receipts = []
    for link in consent.events:
        event = link.event
        if event.type_name not in GRANTS:
            continue
        receipts.append(
            {"receipt": _kantara(consent, controller, link, until), "ledger": link.to_json()}
        )
    return receipts


def _kantara(
    consent: SubjectConsent, controller: Mapping[str, Any], link: LedgerLink, until: str
) -> dict[str, Any]:
    event = link.event
    method = str(event.evidence.get("method"))
    keyword = event.evidence.get("keyword")
    party: dict[str, Any] = {
        "piiController": controller["name"],
        "contact": controller["contact"],
        "address": dict(controller["address"]),
        "email": controller["email"],
        "phone": controller["phone"],
    }
    if controller.get("url"):
        party["piiControllerUrl"] = controller["url"]
    service = f"{consent.subject.channel.value} messages from "
    service += _business_name(consent) or str(controller["name"])
    return {
        "version": KANTARA_VERSION,
        "jurisdiction": consent.jurisdiction,
        "consentTimestamp": int(event.occurred_at.timestamp()),
        "collectionMethod": f"{method} ({keyword})" if keyword else method,
        "consentReceiptID": str(event.event_id),
        "piiPrincipalId": str(consent.subject.id),
        "piiControllers": [party],
        "policyUrl": controller["policy_url"],
        "services": [
            {
                "service": service,
                "purposes": [
                    {
                        "purpose": purpose,
                        "purposeCategory": [
                            "Marketing" if purpose == "marketing" else "Core Function"
                        ],
                        "consentType": "EXPLICIT",
                        "piiCategory": ["Contact"],
                        "termination": "until withdrawn (reply STOP); the record is kept until "
                        + until,
                        "thirdPartyDisclosure": False,
                    }
                    for purpose in (event.purposes or ["*"])
                ],
            }
        ],
        "sensitive": False,
        "spiCat": [],
    }


def _category(purpose: str) -> str:
    """The Kantara purpose category (its Appendix lists Marketing and Core Function)."""
    return "Marketing" if purpose == "marketing" else "Core Function"
