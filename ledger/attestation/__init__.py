"""Attestation: a Merkle log over the ledger, signed checkpoints, and verifiable bundles.

Pure parts (the tree, proofs, signed notes, bundle verification) live beside the edges
that do I/O (the sealer, the bundle builder), so an auditor's check needs nothing but
these rules and the ledger's public key.
"""
