# With the tour's $BASE and $AUTH (an auditor key): the public key, a bundle, the check.
curl -sf "$BASE/v1/public-key?format=pem" > ledger.pub      # or get it from the operator
curl -sf "$BASE/v1/subjects/whatsapp/+14155550100/attestation" -H "$AUTH" > bundle.json
.venv/bin/consent-ledger verify bundle.json --public-key ledger.pub
# OK: 2 events (hash chain v1-v2), 2 inclusion proofs and 6 disclosures verified against checkpoint consent-ledger.local/log tree size 2 of 2026-11-21T10:00:01.000000Z, signed by key consent-ledger.local/log (a1b2c3d4)
