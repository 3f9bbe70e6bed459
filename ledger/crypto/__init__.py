"""Tamper evidence and confidentiality, without I/O: canonical JSON, the hash chain that
*links* events, commitments, *encryption* of personal data and gateway secrets, Merkle
tree hashing (RFC 6962) and C2SP signed notes for checkpoints."""
