"""Downstream webhooks: subscriptions (``subscriptions.py``), the endpoint checks that need
DNS (``resolution.py``) and their settings (``settings.py``); the sender that delivers
is ``ledger/publishing/webhooks/``."""
