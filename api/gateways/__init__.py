"""The messaging gateways' own formats: signature checks and parsing into ledger commands.

One module per gateway. Each verifies that a callback is genuine, then parses the whole
payload into commands before anything is recorded, so a malformed payload is refused
(4xx, naming the field) with nothing stored.
"""
