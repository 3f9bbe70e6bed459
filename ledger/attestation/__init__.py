"""Attestation: the Merkle log over the ledger, signed checkpoints, and verifiable bundles.

The checkpointer (``checkpointer.py``, run by ``consent-ledger seal``) extends the log and
signs checkpoints; ``bundle.py`` builds a subject's bundle; ``verification.py`` checks one
offline with nothing but these rules and the ledger's public key.
"""
