"""Database triggers that make a table append-only (SEC-32, SEC-43), for SQLite and PostgreSQL."""

from django.db import migrations


def _create(table: str):
    def forwards(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        if vendor == "sqlite":
            for op in ("UPDATE", "DELETE"):
                schema_editor.execute(
                    f'CREATE TRIGGER "{table}_no_{op.lower()}" BEFORE {op} ON "{table}" '
                    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END;"
                )
        elif vendor == "postgresql":
            schema_editor.execute(
                f'CREATE OR REPLACE FUNCTION "{table}_append_only"() RETURNS trigger AS $$ '
                f"BEGIN RAISE EXCEPTION '{table} is append-only'; END; $$ LANGUAGE plpgsql;"
            )
            schema_editor.execute(
                f'CREATE TRIGGER "{table}_append_only" BEFORE UPDATE OR DELETE ON "{table}" '
                f'FOR EACH ROW EXECUTE FUNCTION "{table}_append_only"();'
            )

    return forwards


def _drop(table: str):
    def backwards(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        if vendor == "sqlite":
            for op in ("update", "delete"):
                schema_editor.execute(f'DROP TRIGGER IF EXISTS "{table}_no_{op}"')
        elif vendor == "postgresql":
            schema_editor.execute(f'DROP TRIGGER IF EXISTS "{table}_append_only" ON "{table}"')
            schema_editor.execute(f'DROP FUNCTION IF EXISTS "{table}_append_only"()')

    return backwards


def append_only(table: str) -> migrations.RunPython:
    """A migration operation that refuses UPDATE and DELETE on `table` at the database."""
    return migrations.RunPython(_create(table), _drop(table))


def append_only_after_sqlite_remake(table: str) -> migrations.RunPython:
    """After an AlterField that SQLite performs by copying the table into a new one (which leaves the
    triggers behind), put `table`'s append-only triggers back. PostgreSQL alters in place and keeps them."""

    def forwards(apps, schema_editor):
        if schema_editor.connection.vendor == "sqlite":
            _drop(table)(apps, schema_editor)
            _create(table)(apps, schema_editor)

    return migrations.RunPython(forwards, migrations.RunPython.noop)
