"""What the service role may do to each table the owner role created.

The owner role (``consent-ledger schema create``) creates the ledger's tables and their
triggers; the processes run as a service role that holds only these privileges, and
``CREATE`` on the schema for the read models it builds and owns itself (they are
rebuilt from the ledger, so it may change them freely). No privilege lets the service
role drop a table or a trigger, or disable one: only the owner can.

``UPDATE`` on an events table is there only because ``LOCK TABLE … IN EXCLUSIVE MODE``
(the library's and the writer's, to keep positions in commit order) needs a write
privilege on PostgreSQL 15; the table's trigger refuses every UPDATE, for every role.
"""

from __future__ import annotations

from psycopg import Connection
from psycopg.sql import SQL, Identifier

# Table suffix after the events table's name ("" is the events table itself).
LEDGER_PRIVILEGES: dict[str, tuple[str, ...]] = {
    "": ("SELECT", "INSERT", "UPDATE"),  # UPDATE for LOCK TABLE only: the trigger refuses it
    "_receipts": ("SELECT", "INSERT"),
    "_subject_keys": ("SELECT", "INSERT", "DELETE"),  # erasure deletes the key
    "_outbox": ("SELECT", "INSERT", "DELETE"),  # erasure deletes unsent messages
    "_merkle_leaves": ("SELECT", "INSERT"),
    "_merkle_nodes": ("SELECT", "INSERT"),
    "_checkpoints": ("SELECT", "INSERT"),
    "_deliveries": ("SELECT", "INSERT"),
    "_gateway_secrets": ("SELECT", "INSERT", "DELETE"),  # superseded secrets are forgotten
    "_contacts": ("SELECT", "INSERT", "DELETE"),  # erasure unlinks the subject
    "_contact_secrets": ("SELECT", "INSERT"),
    "_cosignatures": ("SELECT", "INSERT"),  # witnesses' cosignatures of checkpoints
    "_campaign_receipt_lists": ("SELECT", "INSERT"),  # the subject ids of campaign receipts
}
ACCESS_PRIVILEGES = ("SELECT", "INSERT", "UPDATE")  # UPDATE for LOCK TABLE only


def grant_service_role(
    conn: Connection[tuple[object, ...]],
    role: str,
    *,
    schema: str,
    events_table: str,
    access_table: str,
) -> list[str]:
    """Grant ``role`` what the processes need; the statements run, for the log."""
    statements = [
        SQL("GRANT USAGE, CREATE ON SCHEMA {schema} TO {role}").format(
            schema=Identifier(schema), role=Identifier(role)
        ),
        SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {role}").format(
            schema=Identifier(schema), role=Identifier(role)
        ),
    ]
    tables = [(events_table + suffix, p) for suffix, p in LEDGER_PRIVILEGES.items()]
    tables.append((access_table, ACCESS_PRIVILEGES))
    for table, privileges in tables:
        statements.append(
            SQL("GRANT " + ", ".join(privileges) + " ON {table} TO {role}").format(
                table=Identifier(schema, table), role=Identifier(role)
            )
        )
    with conn.transaction():
        for statement in statements:
            conn.execute(statement)
    return [statement.as_string(conn) for statement in statements]
