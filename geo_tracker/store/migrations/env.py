"""Alembic environment: always called with a live connection from geo_tracker.store.migrate."""

from alembic import context

from geo_tracker.store.migrate import version_table_schema

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `geo-tracker init`, not the alembic command")

context.configure(connection=connection, version_table_schema=version_table_schema(connection))
with context.begin_transaction():
    context.run_migrations()
