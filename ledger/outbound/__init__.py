"""Messages the gateways must send: opt-in requests, confirmations and help replies.

Each is written to the outbox in the same transaction as the event that caused it
(help, which records no event, on its own), then moved to Kafka ``consent.outbound`` by
the outbound relay, or pulled from ``GET /v1/outbound`` on the embedded default.
"""
