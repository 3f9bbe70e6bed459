"""Ask on first message: the opt-in request a new subject's first message gets.

Off unless the tenant turns it on. When on, a message that matches no keyword, from a
subject the ledger has no history of, records an opt-in request with the tenant's
template (and queues it to be sent), under the rules of every request.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ledger.domain.commands import Notice
from ledger.domain.errors import InvalidInput
from ledger.domain.validation import MAX_SHORT, MAX_TEXT, check_purposes

DEFAULT_PURPOSES = ("marketing",)


@dataclass(frozen=True)
class FirstMessageRequest:
    """What a first message asks: the purposes, the template shown, the business."""

    purposes: tuple[str, ...]
    template: Notice
    business_name: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "purposes": list(self.purposes),
            "template": {
                "id": self.template.id,
                "version": self.template.version,
                "text": self.template.text,
            },
            "business_name": self.business_name,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FirstMessageRequest:
        template = data["template"]
        return cls(
            purposes=tuple(data["purposes"]),
            template=Notice(template["id"], template["version"], template["text"]),
            business_name=data["business_name"],
        )


def parse_first_message_request(
    *,
    purposes: list[str] | None,
    template: Mapping[str, Any] | None,
    business_name: str | None,
) -> FirstMessageRequest:
    """Checked settings of an enabled first-message request (a template is required)."""
    checked = check_purposes(purposes or DEFAULT_PURPOSES)
    if not checked:
        raise InvalidInput("at least one purpose is required", field="purposes")
    if template is None:
        raise InvalidInput(
            "a template {id, version, text} is required to ask on first message",
            field="template",
            code="missing_field",
        )
    values: dict[str, str] = {}
    for name, limit in (("id", MAX_SHORT), ("version", MAX_SHORT), ("text", MAX_TEXT)):
        value = template.get(name)
        if not isinstance(value, str) or not value.strip() or len(value) > limit:
            raise InvalidInput(
                f"template.{name} must be a non-empty string of at most {limit} characters",
                field=f"template.{name}",
            )
        values[name] = value
    if not isinstance(business_name, str) or not business_name.strip():
        raise InvalidInput(
            "business_name is required to ask on first message",
            field="business_name",
            code="missing_field",
        )
    if len(business_name) > MAX_SHORT:
        raise InvalidInput(f"longer than {MAX_SHORT} characters", field="business_name")
    return FirstMessageRequest(
        purposes=checked,
        template=Notice(values["id"], values["version"], values["text"]),
        business_name=business_name,
    )
