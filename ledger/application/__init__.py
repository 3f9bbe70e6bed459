"""The use cases: the writer (one per process), commands and queries (``ConsentLedger``),
erasure, expiry, imports, gateway signals, tenant settings, outbound messages and API keys.
Collaborators depend on the narrow protocols of ``ports.py``; every retry goes through
``retry.py``."""
