"""``ConsentLedger``: the commands and queries callers use. Plain values in, frozen out."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Generic, TypeVar
from uuid import UUID

from ledger.application.contacts import ContactIndex
from ledger.application.core import LedgerCore
from ledger.application.outbound.replies import (
    InboundReplies,
    OptInRequestOutbound,
    queue_help_reply,
)
from ledger.application.writer.work import Decision, ItemResult, WorkItem, recorded
from ledger.crypto.encryption import readable_disclosures
from ledger.crypto.secret_box import SecretBox, SecretsSettings
from ledger.domain.commands import ReceiveMessage, RecordConsent, RequestOptIn
from ledger.domain.consent_status import SubjectState
from ledger.domain.contacts import check_contact_id
from ledger.domain.decisions import (
    classify_message,
    decide_first_message,
    decide_message,
    decide_record,
    decide_request,
    request_evidence,
)
from ledger.domain.errors import InvalidInput, LedgerError, join_field
from ledger.domain.invalidations import check_invalidation
from ledger.domain.keywords import Intent
from ledger.domain.records import History, HistoryEntry, InboundOutcome, Recorded, RequestRecorded
from ledger.domain.sender_scope import scope_opt_outs
from ledger.domain.subjects import SubjectRef, resolve_subject
from ledger.domain.tenants.policy import TenantPolicy
from ledger.domain.validation import (
    MAX_SHORT,
    check_method,
    check_occurred_at,
    check_purposes,
    check_source,
    check_text,
)
from ledger.events import CONSENT_EVENT_TYPES, ConsentEvent, LedgerEvent
from ledger.persistence.contacts import contact_tables
from ledger.runtime.collector import collection_paused

T = TypeVar("T")

ACTION_OF_TYPE = {
    "opted_out": Intent.OPT_OUT.value,
    "opted_in": Intent.OPT_IN.value,
    "opt_in_accepted": Intent.ACCEPT.value,
    "opt_in_rejected": Intent.REJECT.value,
    "opt_in_requested": "opt_in_requested",  # a first message that asked for consent
}


@dataclass(frozen=True)
class Prepared(Generic[T]):
    """A command checked and turned into work items; ``finish`` makes the answer.

    ``follow_up`` says what I/O the answer still needs after the commit (a HELP reply),
    if any; the async callers run it on a worker thread.
    """

    tenant: str
    items: list[WorkItem]
    finish: Callable[[list[ItemResult]], T]
    atomic: bool = True
    follow_up: Callable[[T], Callable[[], object] | None] | None = None


# A batch this large is checked on a worker thread by the async callers, off the loop.
LARGE_BATCH = 64


class ConsentLedger(LedgerCore):
    """The commands (``record``, ``receive_message``, ``request_opt_in``; each also as
    ``…_async`` for the event loop) and the queries callers use."""

    # -------------------------------------------------------------- contacts
    @functools.cached_property
    def contacts(self) -> ContactIndex:
        """The tenants' contact index (its secrets sealed like the gateway secrets)."""
        return ContactIndex(
            contact_tables(self.recorder), SecretBox.from_settings(SecretsSettings())
        )

    def contact_key_of(self, tenant: str, checked: str | None) -> str | None:
        """The index key of a contact id already checked with the command, or None."""
        return None if checked is None else self.contacts.key(tenant, checked)

    def contact_subjects(self, tenant: str, contact_id: str) -> list[SubjectRef]:
        """Every number of a contact still linked (erasure unlinks), oldest link first.

        Each address is read from the subject's sealed personal data: the index holds
        none."""
        checked = check_contact_id(contact_id)
        if checked is None:  # pragma: no cover - a str is never None
            return []
        links = self.contacts.subjects(tenant, checked)
        ids = [link.subject_id for link in links]
        keys = self.store.data_keys(ids)
        stored = self.store.select_subjects(ids)
        subjects: list[SubjectRef] = []
        for link in links:
            address = None
            for event in reversed(stored.get(link.subject_id, [])):
                disclosed = _disclosed(self.ledger_event(event), keys.get(link.subject_id))
                if disclosed and "address" in disclosed:
                    address = disclosed["address"]
                    break
            if address is not None:
                subjects.append(resolve_subject(tenant, link.channel, address))
        return subjects

    async def _know_contact_secret(self, tenant: str, named: bool) -> None:
        """Read (or make) the tenant's contact secret off the loop, before deciding."""
        if named and not self.contacts.cached(tenant):
            await asyncio.to_thread(self.contacts.warm, tenant)

    # ------------------------------------------------------------- execution
    def execute(self, prepared: Prepared[T]) -> T:
        answer = prepared.finish(self.run(prepared.tenant, prepared.items, atomic=prepared.atomic))
        job = prepared.follow_up(answer) if prepared.follow_up is not None else None
        if job is not None:
            job()
        return answer

    async def execute_async(self, prepared: Prepared[T]) -> T:
        results = await self.run_async(prepared.tenant, prepared.items, atomic=prepared.atomic)
        answer = prepared.finish(results)
        job = prepared.follow_up(answer) if prepared.follow_up is not None else None
        if job is not None:
            await asyncio.to_thread(job)
        return answer

    # ----------------------------------------------------------------- commands
    def record(self, command: RecordConsent) -> Recorded:
        return self.record_batch([command], field_prefix="")[0]

    def record_batch(
        self, commands: Sequence[RecordConsent], *, field_prefix: str = "events"
    ) -> list[Recorded]:
        """Record a batch in one transaction; any bad item refuses the whole batch."""
        if not commands:
            return []
        policy = self.policy_for(commands[0].tenant)
        return self.execute(self.prepare_batch(commands, policy, field_prefix=field_prefix))

    async def record_batch_async(
        self, commands: Sequence[RecordConsent], *, field_prefix: str = "events"
    ) -> list[Recorded]:
        if not commands:
            return []
        policy = await self.policy_async(commands[0].tenant)
        await self._know_contact_secret(
            commands[0].tenant, any(c.contact_id is not None for c in commands)
        )
        if len(commands) > LARGE_BATCH:
            prepared = await asyncio.to_thread(
                self.prepare_batch, commands, policy, field_prefix=field_prefix
            )
        else:
            prepared = self.prepare_batch(commands, policy, field_prefix=field_prefix)
        return await self.execute_async(prepared)

    def prepare_batch(
        self,
        commands: Sequence[RecordConsent],
        policy: TenantPolicy,
        *,
        field_prefix: str = "events",
    ) -> Prepared[list[Recorded]]:
        with collection_paused():  # a batch's work items all live until it is stored
            return self._prepare_batch(commands, policy, field_prefix)

    def _prepare_batch(
        self, commands: Sequence[RecordConsent], policy: TenantPolicy, field_prefix: str
    ) -> Prepared[list[Recorded]]:
        tenant = commands[0].tenant
        items: list[WorkItem] = []
        for index, command in enumerate(commands):
            prefix = f"{field_prefix}[{index}]" if field_prefix else ""
            if command.tenant != tenant:
                raise InvalidInput(
                    "a batch belongs to one tenant", field=join_field(prefix, "tenant")
                )
            try:
                subject, checked = self.check_record(command, methods=policy.capture_methods)
                contact_key = self.contact_key_of(tenant, checked.contact_id)
            except LedgerError as error:
                raise (error.at(prefix) if prefix else error) from None

            def decide(
                state: SubjectState, now: datetime, checked: RecordConsent = checked
            ) -> Decision:
                drafts = decide_record(state, checked, now=now, policy=policy)
                return Decision(scope_opt_outs(drafts, policy.opt_out_scope))

            source_key = (checked.source.kind, checked.source.id) if checked.source.id else None
            items.append(
                WorkItem(
                    subject,
                    decide,
                    source_key=source_key,
                    field_prefix=prefix,
                    contact_key=contact_key,
                )
            )

        def finish(results: list[ItemResult]) -> list[Recorded]:
            answers = [recorded(result) for result in results]
            return [answer for answer in answers if answer is not None]

        return Prepared(tenant, items, finish)

    def receive_message(self, message: ReceiveMessage) -> InboundOutcome:
        """Classify an inbound message with the tenant's keyword rules and record its meaning."""
        return self.execute(self.prepare_message(message, self.policy_for(message.tenant)))

    async def receive_message_async(self, message: ReceiveMessage) -> InboundOutcome:
        policy = await self.policy_async(message.tenant)
        return await self.execute_async(self.prepare_message(message, policy))

    def prepare_message(
        self, message: ReceiveMessage, policy: TenantPolicy
    ) -> Prepared[InboundOutcome]:
        subject = resolve_subject(message.tenant, message.channel, message.address, field_prefix="")
        check_occurred_at(message.occurred_at)
        check_source(message.source_kind, message.message_id, id_field="message_id")
        check_text(message.text, field="text")
        check_text(message.button_payload, field="button_payload", limit=MAX_SHORT)
        check_text(message.profile_name, field="profile_name", limit=MAX_SHORT)
        check_text(message.sender, field="sender", limit=MAX_SHORT)
        if not (message.text or message.button_payload):
            raise InvalidInput("a message needs text or a button payload", field="text")
        message = replace(message, address=subject.address)
        replies = InboundReplies(message, policy)  # the confirmation, if any (outbound/)

        def decide(state: SubjectState, now: datetime) -> Decision:
            replies.observe(state)
            match = classify_message(state, message, policy)
            drafts = decide_message(state, message, match, policy=policy) or decide_first_message(
                state, message, match, policy.first_message, now=now, policy=policy
            )
            return Decision(scope_opt_outs(drafts, policy.opt_out_scope), match=match)

        source_key = (message.source_kind, message.message_id)
        item = WorkItem(subject, decide, source_key=source_key, messages=replies)

        def finish(results: list[ItemResult]) -> InboundOutcome:
            [result] = results
            answer = recorded(result)
            if result.duplicate_of is not None:
                action = ACTION_OF_TYPE.get(result.duplicate_of.type, Intent.NONE.value)
                return InboundOutcome(action=action, subject_id=subject.id, recorded=answer)
            match = result.match
            if match is None:  # pragma: no cover - every decision above names its match
                raise RuntimeError("an inbound message was decided without a match")
            helped = match.intent is Intent.HELP
            action = match.intent.value if answer is not None or helped else "none"
            if answer is not None and match.intent is Intent.NONE:
                action = ACTION_OF_TYPE.get(answer.type, action)  # a first message asked
            return InboundOutcome(
                action=action,
                subject_id=subject.id,
                recorded=answer,
                keyword=match.keyword,
                match=match.match.value if match.match else None,
            )

        def follow_up(outcome: InboundOutcome) -> Callable[[], object] | None:
            if outcome.action == Intent.HELP.value and outcome.recorded is None:
                return lambda: queue_help_reply(self, subject, message, policy)
            return None

        return Prepared(message.tenant, [item], finish, follow_up=follow_up)

    def request_opt_in(self, request: RequestOptIn) -> RequestRecorded:
        """Record an opt-in request; refused while one is pending inside the window."""
        return self.execute(self.prepare_request(request, self.policy_for(request.tenant)))

    def prepare_request(
        self, request: RequestOptIn, policy: TenantPolicy
    ) -> Prepared[RequestRecorded]:
        subject = resolve_subject(request.tenant, request.channel, request.address)
        purposes = check_purposes(request.purposes)
        if not purposes:
            raise InvalidInput("at least one purpose is required", field="purposes")
        check_text(request.template.text, field="template.text")
        check_text(request.template.id, field="template.id", limit=MAX_SHORT)
        check_text(request.template.version, field="template.version", limit=MAX_SHORT)
        check_text(request.business_name, field="business_name", limit=MAX_SHORT)
        check_source(request.source.kind, request.source.id)
        if request.occurred_at is not None:
            check_occurred_at(request.occurred_at)
        method = check_method(request.method, extra=policy.capture_methods, field="method")
        contact_id = check_contact_id(request.contact_id)
        contact_key = self.contact_key_of(request.tenant, contact_id)
        evidence = replace(
            request_evidence(request.template, request.business_name, request.recorded_by, method),
            contact_id=contact_id,
        )

        def decide(state: SubjectState, now: datetime) -> Decision:
            drafts = decide_request(
                state,
                purposes=purposes,
                occurred_at=request.occurred_at or now,
                source=request.source,
                evidence=evidence,
                now=now,
                policy=policy,
            )
            return Decision(drafts)

        source_key = (request.source.kind, request.source.id) if request.source.id else None
        outbound = OptInRequestOutbound(request.business_name)  # the message to send
        item = WorkItem(
            subject, decide, source_key=source_key, messages=outbound, contact_key=contact_key
        )

        def finish(results: list[ItemResult]) -> RequestRecorded:
            [result] = results
            answer = recorded(result)
            # A fresh request's id is in its new event; a duplicate's in the stored original.
            event = result.primary
            if answer is not None and event is None:
                event = self._event(answer.subject_id, answer.version)
            if answer is None or event is None or event.request_id is None:
                raise RuntimeError("an opt-in request recorded no request event")
            return RequestRecorded(answer, event.request_id)

        return Prepared(request.tenant, [item], finish)

    # ------------------------------------------------------------------ queries
    def state_of(self, tenant: str, channel: str, address: str) -> SubjectState:
        """The subject's state folded straight from the ledger (the source of truth)."""
        subject = resolve_subject(tenant, channel, address)
        return self.load_states({subject.id: (tenant, subject.channel.value)})[subject.id]

    def history(
        self, tenant: str, channel: str, address: str, *, up_to_position: int | None = None
    ) -> History:
        """Every event of the subject in order, with positions and clear personal data."""
        subject = resolve_subject(tenant, channel, address)
        positioned = self.store.select_positioned(subject.id, lte_position=up_to_position)
        key = self.store.data_keys([subject.id]).get(subject.id)
        entries: list[HistoryEntry] = []
        for item in positioned:
            event = self.ledger_event(item.stored)
            entries.append(
                HistoryEntry(
                    document=event.document(),
                    hash=event.hash,
                    position=item.position,
                    disclosures=_disclosed(event, key),
                )
            )
        return History(subject, entries)

    def _event(self, subject_id: UUID, version: int) -> ConsentEvent:
        [stored] = self.store.select_subjects([subject_id])[subject_id][version - 1 : version]
        event = self.ledger_event(stored)
        if not isinstance(event, ConsentEvent):
            raise TypeError(f"event {subject_id} v{version} is not a consent event")
        return event

    # ------------------------------------------------------------------ helpers
    def check_record(
        self, command: RecordConsent, *, methods: Collection[str] = ()
    ) -> tuple[SubjectRef, RecordConsent]:
        """Validate and normalise a command without recording it (raises ``LedgerError``);
        ``methods``: the tenant's own capture methods."""
        if command.type not in CONSENT_EVENT_TYPES:
            known = ", ".join(CONSENT_EVENT_TYPES)
            raise InvalidInput(
                f"unknown event type {command.type!r}; known: {known}",
                field="type",
                code="unknown_event_type",
            )
        subject = resolve_subject(command.tenant, command.channel, command.address)
        check_occurred_at(command.occurred_at)
        check_source(command.source.kind, command.source.id)
        evidence = command.evidence
        check_method(evidence.method, extra=methods)
        for name in ("text", "user_agent"):
            check_text(getattr(evidence, name), field=f"evidence.{name}")
        for name in ("business_name", "ip", "profile_name", "button_payload", "sender"):
            check_text(getattr(evidence, name), field=f"evidence.{name}", limit=MAX_SHORT)
        if evidence.notice is not None:
            check_text(evidence.notice.id, field="evidence.notice.id", limit=MAX_SHORT)
            check_text(evidence.notice.version, field="evidence.notice.version", limit=MAX_SHORT)
            check_text(evidence.notice.text, field="evidence.notice.text")
        command = check_invalidation(command)
        purposes = check_purposes(command.purposes)
        contact_id = check_contact_id(command.contact_id)
        if evidence.contact_id != contact_id:
            evidence = replace(evidence, contact_id=contact_id)
        if (
            command.address == subject.address
            and command.purposes == purposes
            and command.contact_id == contact_id
            and command.evidence is evidence
        ):
            return subject, command  # already normal (a command is immutable)
        return subject, replace(
            command,
            address=subject.address,
            purposes=purposes,
            contact_id=contact_id,
            evidence=evidence,
        )


def _disclosed(event: LedgerEvent, key: bytes | None) -> dict[str, str] | None:
    disclosed = readable_disclosures(event, key)
    return None if disclosed is None else {d.field: d.value for d in disclosed}
