"""Queuing outbound messages with their events, and turning outbox rows into deliverable ones."""
