"""Messages the gateways must send (opt-in requests, confirmations, help replies): their
ids and contents. They are written to the outbox in the same transaction as their event."""
