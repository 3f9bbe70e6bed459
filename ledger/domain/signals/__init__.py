"""What gateways report besides messages (opt-outs they enforce, undeliverable requests,
deliveries), and what the ledger decides to record for each."""
