-- Mutable baseline (bench/pgbench_load.py): per event one transaction, UPDATE of the
-- contact's status RETURNING its id, then INSERT of the history row with the message's
-- evidence. Contact n = (base + client_id + clients * i) mod contacts, i counting this
-- client's transactions: no two transactions in flight touch the same contact, and a
-- run continues where the last one stopped (base). Even n opts out, odd n opts in.
\set n (:base + :client_id + :clients * :i) % :contacts
\set i :i + 1
BEGIN;
UPDATE bench_contacts
   SET optin_status = CASE WHEN CAST(:n AS bigint) % 2 = 0 THEN 'opted_out' ELSE 'opted_in' END,
       updated_at = now()
 WHERE tenant = 'acme' AND channel = 'whatsapp'
   AND address = '+1312' || lpad(CAST(:n AS text), 7, '0')
RETURNING id AS contact_id \gset
INSERT INTO bench_contact_optin_history
       (contact_id, new_status, source_kind, source_id, occurred_at, evidence)
VALUES (:contact_id,
        CASE WHEN CAST(:n AS bigint) % 2 = 0 THEN 'opted_out' ELSE 'opted_in' END,
        'message', 'wamid.m.' || CAST(:n AS text), now(),
        '{"method": "keyword", "keyword": "STOP", "text": "STOP", "gateway": "whatsapp"}');
END;
