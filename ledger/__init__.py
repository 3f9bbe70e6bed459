"""The consent ledger. Each folder is a layer; ``ledger/README.md`` maps them.

- ``domain/``: pure rules (status fold, decisions, keywords, addresses, tenant policy); no
  I/O, no cryptography.
- ``crypto/``: canonical JSON, the hash chain, commitments, encryption of personal data,
  Merkle tree hashing, signed notes.
- ``persistence/``: the recorders (SQLite, PostgreSQL) and their side tables.
- ``runtime/``: process plumbing (storage settings, metrics, liveness, the notification log).
- ``application/``: the writer, the commands and queries and every other use case.
- ``publishing/`` (Kafka) and ``attestation/`` (Merkle log, checkpoints, bundles): on top.

``events.py``, ``tenants/events.py`` and ``access.py`` hold the stored event classes: their
class paths are a schema, so they stay where they were first stored.
"""
