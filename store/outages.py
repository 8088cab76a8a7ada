"""Which database errors mean the database cannot act now (an outage), and which are
bugs in the statement that ran.

An outage is answered 503 ``service_unavailable`` and may be retried as it is: the
server is unreachable or shutting down, the connection was lost, the disk is full or
failing, the schema is not there (a table is missing: the database was replaced or
never migrated), a lock or the statement timed out, a transaction lost a deadlock.
A bug is any other error of the database: a syntax error, an unknown column or
function, a violated constraint nobody expected. Retrying a bug gives the same
error, so it is never dressed up as an outage; the API logs it with its traceback.

The drivers say which is which: PostgreSQL by the SQLSTATE class of the error
(psycopg's ``sqlstate``; none when no server answered at all), SQLite by its result
code (``sqlite_errorname``), except that SQLite reports a missing table with the
same generic code as a syntax error and only its message tells them apart.
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

# SQLSTATE classes and codes of PostgreSQL outages.
POSTGRESQL_OUTAGE_CLASSES = frozenset(
    {
        "08",  # connection exception
        "28",  # invalid authorization (the credentials were refused)
        "40",  # transaction rollback: serialization failure, deadlock
        "53",  # insufficient resources: disk full, out of memory, too many connections
        "57",  # operator intervention: shutdown, cannot connect now, statement timeout
        "58",  # system error: I/O
        "XX",  # internal error: data corrupted
    }
)
POSTGRESQL_OUTAGE_CODES = frozenset(
    {
        "3D000",  # invalid catalog name: the database does not exist
        "42P01",  # undefined table
        "55P03",  # lock not available
    }
)
# SQLite primary result codes of outages (an extended code such as SQLITE_IOERR_READ
# belongs to its primary).
SQLITE_OUTAGE_CODES = frozenset(
    {
        "SQLITE_BUSY",
        "SQLITE_LOCKED",
        "SQLITE_IOERR",
        "SQLITE_CANTOPEN",
        "SQLITE_FULL",
        "SQLITE_READONLY",
        "SQLITE_CORRUPT",
        "SQLITE_NOTADB",
        "SQLITE_PROTOCOL",
        "SQLITE_NOMEM",
    }
)
SQLITE_MISSING_TABLE = "no such table"


def is_outage(exc: BaseException) -> bool:
    """Whether ``exc`` says the database cannot act now; its driver's own error
    (``exc.orig``) says why."""
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated or isinstance(exc, InterfaceError):
        return True  # the connection is gone, whatever the driver said about it
    driver_error = exc.orig
    sqlite_code = getattr(driver_error, "sqlite_errorname", None)
    if isinstance(sqlite_code, str):
        primary = "_".join(sqlite_code.split("_")[:2])
        missing_table = str(driver_error).startswith(SQLITE_MISSING_TABLE)
        return primary in SQLITE_OUTAGE_CODES or missing_table
    sqlstate = getattr(driver_error, "sqlstate", None)
    if isinstance(sqlstate, str):
        return sqlstate[:2] in POSTGRESQL_OUTAGE_CLASSES or sqlstate in POSTGRESQL_OUTAGE_CODES
    # No code at all: the driver never reached a server that could give one.
    return isinstance(exc, OperationalError)
