"""In-process sealing against real storage: the loop, its key, when serve seals."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from ledger.application.consent_ledger import ConsentLedger
from ledger.attestation.checkpoint_settings import CheckpointSettings
from ledger.attestation.embedded_checkpoints import default_key_path, start_checkpoints
from ledger.attestation.signing_keys import SigningKeyError, ensure_private_key
from ledger.crypto.signed_note import raw_public_key
from ledger.runtime.storage_settings import StorageSettings
from tests.support.commands import opt_in


def test_the_loop_seals_at_start_and_at_once_when_asked(
    ledger: ConsentLedger, storage: StorageSettings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = tmp_path / "signing.pem"
    ensure_private_key(key)
    monkeypatch.setenv("CONSENT_LEDGER_SIGNING_KEY", str(key))
    loop = start_checkpoints(ledger, storage, CheckpointSettings(), 60)
    assert loop is not None
    try:
        # The first pass ran before start returned: an empty log has a signed checkpoint
        assert loop.passes == 1
        store = loop.checkpointer.store
        first = store.latest_checkpoint()
        assert first is not None
        assert first.tree_size == 0
        # Events recorded now are sealed on request, long before the next 60 s pass
        for index in range(3):
            ledger.record(opt_in(f"+1415555010{index}"))
        assert loop.seal_now(timeout=10)
        latest = store.latest_checkpoint()
        assert latest is not None
        assert latest.tree_size == 3
    finally:
        loop.close()
    assert not loop.seal_now(timeout=0.1)  # a closed loop seals nothing


def test_serve_seals_by_default_only_on_the_embedded_default(
    ledger: ConsentLedger, storage: StorageSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CONSENT_LEDGER_SIGNING_KEY", raising=False)
    if storage.uses_postgres:
        assert start_checkpoints(ledger, storage, CheckpointSettings(), None) is None
        with pytest.raises(SigningKeyError, match="CONSENT_LEDGER_SIGNING_KEY"):
            start_checkpoints(ledger, storage, CheckpointSettings(), 2)
        return
    loop = start_checkpoints(ledger, storage, CheckpointSettings(), None)
    assert loop is not None
    loop.close()
    assert loop.every == 2.0
    assert default_key_path(storage) == storage.sqlite_path.with_name("ledger.signing-key.pem")
    assert start_checkpoints(ledger, storage, CheckpointSettings(), 0) is None


def test_the_key_is_created_once_owner_only_and_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "consent-ledger.signing-key.pem"
    key, created = ensure_private_key(path)
    assert created
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    written = path.read_bytes()
    again, created_again = ensure_private_key(path)
    assert not created_again
    assert path.read_bytes() == written
    assert raw_public_key(again.public_key()) == raw_public_key(key.public_key())
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]  # no temporary left
    path.write_text("not a key")
    with pytest.raises(SigningKeyError):
        ensure_private_key(path)
    assert path.read_text() == "not a key"
