# Where `make serve` listens: port 8000, or the one you gave it (set it here too).
BASE=http://localhost:${CONSENT_LEDGER_PORT:-8000}

# An API key decides the tenant and the roles; it is printed once and stored hashed.
KEY=$(.venv/bin/consent-ledger keys create --tenant acme --roles ingest,campaign,auditor)
AUTH="Authorization: Bearer $KEY"

# A web form records an opt-in, with its evidence. (-w prints the HTTP status after the answer.)
curl -s -w '\n%{http_code}\n' -X POST "$BASE/v1/events" -H "$AUTH" -H 'content-type: application/json' -d '{
  "events": [{"type": "opted_in", "channel": "whatsapp", "address": "+14155550100",
              "purposes": ["marketing", "utility"], "occurred_at": "2026-11-21T09:00:00Z",
              "source": {"kind": "web_form", "id": "form-991"},
              "evidence": {"method": "web_form", "text": "I agree to receive offers from Acme",
                           "notice": {"id": "privacy", "version": "3"}, "business_name": "Acme",
                           "ip": "203.0.113.9", "user_agent": "Mozilla/5.0"}}]}'
# -> {"results":[{"subject_id":"…","event_id":"…","type":"opted_in","version":1,"position":1,"duplicate":false}]}
#    200

# The person replies "stop promotions" on WhatsApp: a scoped opt-out (marketing only).
curl -s -w '\n%{http_code}\n' -X POST "$BASE/v1/messages/inbound" -H "$AUTH" -H 'content-type: application/json' \
  -d '{"channel": "whatsapp", "from": "+14155550100", "text": "stop promotions", "message_id": "wamid.1"}'
# -> {"action":"opted_out","subject_id":"…","event_id":"…","position":2,"duplicate":false,"keyword":"STOP PROMOTIONS","match":"exact"}
#    200

# The confirmation to send them says what was withdrawn. Your sender polls the outbox
# (with Kafka, it reads the topic consent.outbound instead).
curl -s -w '\n%{http_code}\n' "$BASE/v1/outbound?after=0" -H "$AUTH"
# -> {"messages":[{"kind":"confirmation","to":"+14155550100","change":"opted_out","purposes":["marketing"],
#      "text":"You will get no more marketing messages from us. Other messages you agreed to continue; reply STOP to stop them all.",…}],"next_after":1}
#    200

# Status per purpose. ?after=2 waits until the read model has applied position 2.
curl -s -w '\n%{http_code}\n' "$BASE/v1/subjects/whatsapp/+14155550100?after=2" -H "$AUTH"
# -> {"purposes":{"marketing":{"status":"opted_out",…},"utility":{"status":"opted_in",…}},…}
#    200

# Ask someone else for consent, then they answer YES.
curl -s -w '\n%{http_code}\n' -X POST "$BASE/v1/optin-requests" -H "$AUTH" -H 'content-type: application/json' -d '{
  "channel": "whatsapp", "address": "+14155550101", "purposes": ["marketing"],
  "template": {"id": "welcome", "version": "2", "text": "Reply YES to get updates from Acme"},
  "business_name": "Acme"}'
# -> {"request_id":"…","event_id":"…","position":3,"expires_at":"…","outbound_id":"…",…}
#    201   (409 while one is pending)
curl -s -w '\n%{http_code}\n' -X POST "$BASE/v1/messages/inbound" -H "$AUTH" -H 'content-type: application/json' \
  -d '{"channel": "whatsapp", "from": "+14155550101", "text": "YES", "message_id": "wamid.2"}'
# -> {"action":"accepted",…}
#    200

# The full history with its hash chain: what an auditor reads.
curl -s -w '\n%{http_code}\n' "$BASE/v1/subjects/whatsapp/+14155550100/history" -H "$AUTH"
# -> {"events":[{"type":"opted_in","version":1,"prev_hash":"000…","hash":"…","commitments":{…},"disclosures":{…}},…]}
#    200

# Bad input is refused with the field named, and nothing is stored.
curl -s -w '\n%{http_code}\n' -X POST "$BASE/v1/events" -H "$AUTH" -H 'content-type: application/json' -d '{
  "events": [{"type": "opted_in", "channel": "whatsapp", "address": "+1415", "purposes": ["marketing"],
              "occurred_at": "2026-11-21T09:00:00Z", "source": {"kind": "api"}, "evidence": {"method": "api"}}]}'
# -> {"error":{"code":"invalid_address","message":"'+1415' is not a possible phone number…","field":"events[0].address"}}
#    422
