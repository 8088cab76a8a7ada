"""Persistence: SQLAlchemy 2.0 typed ORM models, sessions, migrations and the credit ledger."""
