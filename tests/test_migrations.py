"""Migrations on empty SQLite and PostgreSQL, the schema check, and models == migrations."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from store.db import make_engine
from store.migrate import current_revision, head_revision, schema_problem, upgrade_to_head
from store.models import Base


def test_upgrade_on_an_empty_database(database_url):
    engine = make_engine(database_url)
    try:
        behind = schema_problem(engine)
        assert behind is not None
        assert "sms-addon migrate" in behind and str(head_revision()) in behind
        upgrade_to_head(engine)
        assert schema_problem(engine) is None
        assert current_revision(engine) == head_revision()
        assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
        upgrade_to_head(engine)  # at head already: nothing to do, nothing fails
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()


def test_models_match_the_migrations(engine):
    """Autogenerate finds nothing to add: every model change came with its migration."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
