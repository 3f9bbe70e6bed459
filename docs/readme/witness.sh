# A witness and a ledger that needs its cosignature (1 of 1), on one machine.
LEDGER_PORT=${LEDGER_PORT:-8000} WITNESS_PORT=${WITNESS_PORT:-8100}
BASE=http://127.0.0.1:$LEDGER_PORT
# The witness's own key and state; its verifier key is what the ledger is told.
.venv/bin/consent-ledger keys signing-key --out witness.pem > /dev/null
export CONSENT_LEDGER_WITNESS_NAME=auditor.example/witness CONSENT_LEDGER_WITNESS_KEY=witness.pem
export CONSENT_LEDGER_WITNESS_STATE=witness.db CONSENT_LEDGER_WITNESS_PORT=$WITNESS_PORT
WITNESS_VKEY=$(.venv/bin/consent-ledger witness --print-key)
# The ledger submits every new checkpoint to it; a checkpoint counts once it cosigned.
CONSENT_LEDGER_WITNESSES="http://127.0.0.1:$WITNESS_PORT $WITNESS_VKEY" \
CONSENT_LEDGER_WITNESS_QUORUM=1 \
  .venv/bin/consent-ledger serve --port "$LEDGER_PORT" 2> ledger.log &
until curl -sf "$BASE/v1/public-key" > /dev/null; do sleep 0.2; done
# The witness trusts the ledger's key (take it from the operator; here from the API).
export CONSENT_LEDGER_WITNESS_LOGS=$(curl -sf "$BASE/v1/public-key" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["verifier_key"])')
.venv/bin/consent-ledger witness 2> witness.log &
# Within a pass or two, /checkpoint serves the checkpoint with the witness's cosignature.
until curl -sf "$BASE/checkpoint" | grep -q auditor.example/witness; do sleep 0.5; done
curl -sf "$BASE/checkpoint"
# consent-ledger.local/log
# 0
# 47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=
# time 2026-12-01T06:00:00.000000Z
#
# — consent-ledger.local/log 9C7sPRjY…
# — auditor.example/witness jWbPPwAAAABkGFDL…
kill %1 %2; wait
