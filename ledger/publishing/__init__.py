"""Getting ledger events and gateway messages onto Kafka."""
