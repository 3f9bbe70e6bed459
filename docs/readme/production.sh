export DATABASE_URL=postgresql://postgres@127.0.0.1:5432/consent
export KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:9092

# One terminal (or supervisor service) per line; `&` runs them all from one shell.
# Start `serve` (or any one process) first on a fresh database: it creates the tables.
consent-ledger serve &              # the API on 127.0.0.1:8000; reads what the consumers keep
until curl -sf http://127.0.0.1:8000/healthz >/dev/null; do sleep 1; done
consent-ledger publish &            # ledger -> Kafka; /healthz and /metrics on :9101
CONSENT_LEDGER_METRICS_PORT=9111 consent-ledger publish &   # a standby: one leads, one waits
consent-ledger consume &            # Kafka -> read models; :9102
CONSENT_LEDGER_METRICS_PORT=0 consent-ledger consume &      # more of the group: any free port
consent-ledger expire --every 60 &  # records expiries of unanswered opt-in requests; :9103
wait
