-- consent-ledger: an owner role that runs the DDL, a service role the processes run as.
--
-- Run as a superuser with psql, naming the roles and the database:
--   psql -v owner=consent_ledger_owner -v service=consent_ledger_service \
--        -v database=consent_ledger -f docs/sql/roles.sql
-- Then set their passwords (never in this file): ALTER ROLE … PASSWORD '…' (or \password),
-- create the tables as the owner, granting the service role what it needs:
--   DATABASE_URL=postgresql://consent_ledger_owner@db/consent_ledger \
--     consent-ledger schema create --grant-to consent_ledger_service
-- and run every process (serve, publish, consume, seal, expire, keys) with
--   DATABASE_URL=postgresql://consent_ledger_service@db/consent_ledger
-- Run `schema create --grant-to …` again as the owner after every upgrade.
--
-- The service role can read and append; it cannot UPDATE, DELETE or TRUNCATE a ledger
-- row (triggers refuse it for every role, the owner's included), and it cannot drop or
-- disable a trigger or a table (only the owner can). Erasure deletes a subject's data
-- key and unsent outbox rows; a superseded gateway configuration's secrets are deleted:
-- those deletions are the only ones granted.

CREATE ROLE :"owner" LOGIN;
CREATE ROLE :"service" LOGIN;
CREATE DATABASE :"database" OWNER :"owner";
\connect :"database"
-- Only the owner creates in the schema until it grants CREATE to the service role
-- (for the read models, which the service role owns and rebuilds).
ALTER SCHEMA public OWNER TO :"owner";
REVOKE ALL ON SCHEMA public FROM PUBLIC;
REVOKE ALL ON DATABASE :"database" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"database" TO :"service";
