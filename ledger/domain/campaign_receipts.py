"""What a campaign receipt says, checked: which campaign, channel, purpose, position, list.

A campaign system sends its final list for a send as subject ids (from an audience
export) or as addresses (from its own list); either way only subject ids are kept, so no
address is ever stored with a receipt.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from ledger.domain.addresses import parse_channel
from ledger.domain.errors import InvalidInput
from ledger.domain.subjects import resolve_subject
from ledger.domain.validation import check_purposes

# Kept in clear in the hash chain forever: an identifier, never free text.
CAMPAIGN_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$")


@dataclass(frozen=True)
class ReceiptDraft:
    tenant: str
    campaign_id: str
    channel: str
    purpose: str
    as_of_position: int
    subject_ids: tuple[UUID, ...]  # as sent, with duplicates; the tree dedupes and sorts


def check_campaign_id(campaign_id: str) -> str:
    if not CAMPAIGN_ID_PATTERN.match(campaign_id):
        raise InvalidInput(
            "the campaign id must be 1-128 letters, digits, '_', '.', ':' or '-', starting "
            "with a letter or digit (it is kept in clear in the hash chain)",
            field="campaign_id",
            code="invalid_campaign_id",
        )
    return campaign_id


def draft_receipt(
    tenant: str,
    campaign_id: str,
    channel: str,
    purpose: str,
    as_of_position: int,
    *,
    subject_ids: Sequence[str] = (),
    addresses: Sequence[str] = (),
) -> ReceiptDraft:
    """The checked receipt; a bad value raises ``InvalidInput`` naming its field."""
    parsed_channel = parse_channel(channel).value
    try:
        [checked_purpose] = check_purposes([purpose])
    except InvalidInput as error:
        error.field = "purpose"
        raise
    if as_of_position < 0:
        raise InvalidInput("position must be 0 or more", field="position")
    ids: list[UUID] = []
    for index, text in enumerate(subject_ids):
        try:
            ids.append(UUID(text))
        except (ValueError, TypeError, AttributeError):
            raise InvalidInput(
                f"{text!r} is not a subject id (a UUID)",
                field=f"subject_ids[{index}]",
                code="invalid_subject_id",
            ) from None
    for index, address in enumerate(addresses):
        try:
            ids.append(resolve_subject(tenant, parsed_channel, address).id)
        except InvalidInput as error:
            error.field = f"addresses[{index}]"
            raise
    return ReceiptDraft(
        tenant=tenant,
        campaign_id=check_campaign_id(campaign_id),
        channel=parsed_channel,
        purpose=checked_purpose,
        as_of_position=as_of_position,
        subject_ids=tuple(ids),
    )
