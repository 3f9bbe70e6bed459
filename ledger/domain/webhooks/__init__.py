"""Downstream webhooks: subscriptions, endpoint checks and the retry schedule (pure)."""
