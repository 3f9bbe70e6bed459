"""What gateways report besides messages: opt-outs they enforce, undeliverable requests,
and the delivery of the messages the ledger asked them to send."""
