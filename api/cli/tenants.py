"""``consent-ledger tenants configure TENANT`` and ``tenants show TENANT``.

``configure`` reads a JSON document from a file or stdin (never from the command line,
where secrets would end up in shell history and process lists)::

    {"gateways": {"whatsapp": {"app_secret": "…", "verify_token": "…",
                               "phone_number_id": "…"},
                  "twilio": {"auth_token": "…", "webhook_url": "https://…"},
                  "gupshup": {"app_name": "…", "token": "…"}},
     "keywords": {…as PUT /v1/tenants/{tenant}/keywords…},
     "texts": {"opted_out": "…", "opted_in": "…", "rejected": "…", "help": "…"},
     "request_window_seconds": 86400,
     "first_message_request": {…as PUT /v1/tenants/{tenant}/first-message-request…},
     "capture_methods": ["kiosk", "…"],
     "opt_out_scope": "channel"}

Every section is optional; each one given is one change recorded in the ledger. It
prints the resulting settings (never a secret) as JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import timedelta
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from api.errors import field_path
from api.tenant_schemas import FirstMessageRequestIn, KeywordsIn, TextsIn, settings_out
from ledger.application.consent_ledger import ConsentLedger
from ledger.application.tenants.book import TenantSettingsBook
from ledger.crypto.secret_box import SecretBox, SecretsSettings
from ledger.domain.errors import LedgerError
from ledger.domain.keywords import KeywordRules
from ledger.domain.tenants.buttons import parse_buttons
from ledger.domain.tenants.first_message import parse_first_message_request
from ledger.domain.tenants.gateways import parse_gateway
from ledger.runtime.storage_settings import StorageSettings

CHANGED_BY = "cli"


class TenantConfigIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    gateways: dict[str, dict[str, str]] = {}
    keywords: KeywordsIn | None = None
    texts: TextsIn | None = None
    request_window_seconds: int | None = None
    first_message_request: FirstMessageRequestIn | None = None
    capture_methods: list[str] | None = None
    opt_out_scope: str | None = None


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("tenants", help="a tenant's gateways, keywords and texts")
    tenants = parser.add_subparsers(dest="tenants_command", required=True)
    configure = tenants.add_parser(
        "configure", help="apply a JSON settings document (from --file, or stdin)"
    )
    configure.add_argument("tenant")
    configure.add_argument("--file", default="-", help="path of the JSON document; - is stdin")
    configure.set_defaults(run=configure_tenant)
    show = tenants.add_parser("show", help="print the tenant's settings (no secrets)")
    show.add_argument("tenant")
    show.set_defaults(run=show_tenant)


def configure_tenant(args: argparse.Namespace) -> int:
    try:
        text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text("utf-8")
        config = TenantConfigIn.model_validate_json(text)
    except OSError as error:
        return _fail(None, f"cannot read {args.file}: {error}")
    except ValidationError as error:
        first = error.errors()[0]
        return _fail(field_path(tuple(first.get("loc", ()))), str(first.get("msg")))
    with ConsentLedger(StorageSettings().eventsourcing_env()) as ledger:
        book = TenantSettingsBook(ledger, SecretBox.from_settings(SecretsSettings()))
        try:
            _apply(book, args.tenant, config)
        except LedgerError as error:
            return _fail(error.field, error.message)
        print(json.dumps(settings_out(book.settings(args.tenant)).model_dump(mode="json")))
    return 0


def show_tenant(args: argparse.Namespace) -> int:
    with ConsentLedger(StorageSettings().eventsourcing_env()) as ledger:
        book = TenantSettingsBook(ledger, SecretBox.from_settings(SecretsSettings()))
        print(json.dumps(settings_out(book.settings(args.tenant)).model_dump(mode="json")))
    return 0


def _apply(book: TenantSettingsBook, tenant: str, config: TenantConfigIn) -> None:
    for name, values in config.gateways.items():
        gateway = parse_gateway(name, field=f"gateways.{name}")
        try:
            book.configure_gateway(tenant, gateway, values, changed_by=CHANGED_BY)
        except LedgerError as error:
            raise error.at(f"gateways.{name}") from None
    if config.keywords is not None:
        body = config.keywords
        rules = body.model_dump(exclude_none=True, exclude={"buttons", "opt_in_purposes"})
        buttons = {k: v if isinstance(v, str) else v.model_dump() for k, v in body.buttons.items()}
        book.change_keywords(
            tenant,
            KeywordRules.from_dict(rules),
            parse_buttons(buttons, field="keywords.buttons"),
            tuple(body.opt_in_purposes),
            changed_by=CHANGED_BY,
        )
    if config.texts is not None:
        book.change_texts(tenant, config.texts.model_dump(exclude_none=True), changed_by=CHANGED_BY)
    if config.request_window_seconds is not None:
        book.change_request_window(
            tenant, timedelta(seconds=config.request_window_seconds), changed_by=CHANGED_BY
        )
    ask = config.first_message_request
    if ask is not None:
        try:
            checked = (
                parse_first_message_request(
                    purposes=ask.purposes,
                    template=ask.template.model_dump() if ask.template else None,
                    business_name=ask.business_name,
                )
                if ask.enabled
                else None
            )
        except LedgerError as error:
            raise error.at("first_message_request") from None
        book.change_first_message_request(tenant, checked, changed_by=CHANGED_BY)
    if config.capture_methods is not None:
        try:
            book.change_capture_methods(tenant, config.capture_methods, changed_by=CHANGED_BY)
        except LedgerError as error:
            raise error.at("capture_methods") from None
    if config.opt_out_scope is not None:
        try:
            book.change_opt_out_scope(tenant, config.opt_out_scope, changed_by=CHANGED_BY)
        except LedgerError as error:
            error.field = "opt_out_scope"
            raise


def _fail(field: str | None, message: str) -> int:
    where = f"{field}: " if field else ""
    print(f"consent-ledger tenants configure: {where}{message}", file=sys.stderr)
    return 2
