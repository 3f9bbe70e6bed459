-- Raw limit, one row per transaction (bench/pgbench_load.py): one stored event of the
-- ledger (its topic and state, sent by pgbench as parameters) appended with a fresh
-- originator id into bench_raw_events, the events table's shape. Autocommit: each
-- INSERT is its own durable commit.
INSERT INTO bench_raw_events (originator_id, originator_version, topic, state)
VALUES (gen_random_uuid(), 1, :topic, CAST(:state AS bytea));
