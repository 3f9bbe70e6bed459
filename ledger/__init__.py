"""The consent ledger: domain, application, persistence and publishing."""
