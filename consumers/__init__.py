"""Kafka consumer processes that feed the projections."""
