"""Settings of the writer every process that records events has, from the environment."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class WriterSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    # Items (events, messages) queued for the writer at most; more are refused at once.
    queue_items: int = Field(default=50_000, ge=10_000, alias="CONSENT_LEDGER_WRITE_QUEUE_ITEMS")
    # Items the writer decides and commits in one group (a larger unit is a group alone).
    group_items: int = Field(default=2_000, ge=1, alias="CONSENT_LEDGER_WRITE_GROUP_ITEMS")
    # Subjects whose folded state the writer keeps between writes.
    state_cache_subjects: int = Field(
        default=50_000, ge=0, alias="CONSENT_LEDGER_STATE_CACHE_SUBJECTS"
    )
