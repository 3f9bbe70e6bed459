"""Test infrastructure: real PostgreSQL and a real Kafka-protocol broker."""
