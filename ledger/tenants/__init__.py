"""The stored events of tenants' settings (``events.py``): their class paths are a schema,
so the module stays here. The settings fold is ``ledger/domain/tenants/``; changing and
reading settings is ``ledger/application/tenants/``."""
