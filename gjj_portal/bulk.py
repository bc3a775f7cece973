"""Bulk inserts, for imports of tens of thousands of lines: the one bulk-write API of the portal.

`insert_rows` sends rows built in Python (COPY on PostgreSQL, executemany elsewhere);
`insert_select` copies rows inside the database (INSERT … SELECT). No app sends its own INSERT.

Building a model instance costs ~100 µs and Django's bulk_create compiles every value again;
for a 50,000-row import that is most of the time. `insert_rows` takes dicts of field names to
Python values, prepares them with each field's own get_db_prep_save (so the stored form is
exactly what the ORM would store) and sends them with executemany, or COPY on PostgreSQL.
Callers supply every column the table needs (defaults and auto_now are not applied here), and rows
must not come from a query on the same connection (PostgreSQL cannot query while a COPY is open)."""

import contextlib
import gc
import json
from collections.abc import Iterable, Mapping, Sequence

from django.db import connections, router
from django.db.models.expressions import RawSQL


class RawJson(str):
    """A JSONField value already serialised as JSON text: insert_rows sends it as it is."""


def insert_rows(model, rows: Iterable[dict | Sequence], *, fields: list[str], chunk: int = 5000) -> int:
    """Insert rows into model's table; returns the number of rows. A row is a dict keyed by field name,
    or a tuple of the values of `fields` in that order."""
    meta = model._meta
    model_fields = [meta.get_field(name) for name in fields]
    connection = connections[router.db_for_write(model)]
    table = connection.ops.quote_name(meta.db_table)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in model_fields)
    names = [f.name for f in model_fields]
    count = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            json_at = [index for index, f in enumerate(model_fields) if f.get_internal_type() == "JSONField"]
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    values = [row[name] for name in names] if isinstance(row, Mapping) else list(row)
                    for index in json_at:
                        if not isinstance(values[index], RawJson):
                            values[index] = json.dumps(values[index], ensure_ascii=False)
                    copy.write_row(values)
                    count += 1
            return count
        sql = f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(model_fields))})"
        batch: list[list] = []
        for row in rows:
            values = [row[name] for name in names] if isinstance(row, Mapping) else row
            batch.append([value if isinstance(value, RawJson) else f.get_db_prep_save(value, connection)
                          for f, value in zip(model_fields, values, strict=True)])
            if len(batch) >= chunk:
                cursor.executemany(sql, batch)
                count += len(batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)
            count += len(batch)
    return count


def insert_select(model, select_sql: str, params: Sequence = (), *, computed: Mapping[str, str | tuple[str, Sequence]],
                  values: Mapping[str, object] | None = None, returning: Sequence[str] | None = None) -> int | list[tuple]:
    """INSERT INTO model (every concrete column but the pk) SELECT … `select_sql`, `params`: rows copied inside the database.

    `select_sql` is what follows the select list (FROM … WHERE …). Each column is, by field name: an SQL expression
    over select_sql's aliases from `computed` (or (expression, its parameters)); else a parameter from `values`,
    prepared by the field as the ORM would store it; else the field's default (auto_now and auto_now_add are not
    applied: pass them in `values`). Only quoted identifiers and the caller's expressions are formatted in; every
    value is a parameter. Returns the number of rows, or with `returning` (field names) the inserted rows' values."""
    meta = model._meta
    values = values or {}
    unknown = (set(computed) | set(values) | set(returning or ())) - {f.name for f in meta.concrete_fields}
    if unknown:
        raise ValueError(f"{meta.label} has no column for {sorted(unknown)}")
    connection = connections[router.db_for_write(model)]
    qn = connection.ops.quote_name
    columns, exprs, args = [], [], []
    for model_field in meta.concrete_fields:
        if model_field.primary_key and model_field.name not in computed and model_field.name not in values:
            continue
        expression = computed.get(model_field.name)
        if expression is None and model_field.name not in values and model_field.has_db_default():
            continue  # the database fills it
        columns.append(qn(model_field.column))
        if expression is not None:
            text, expression_params = (expression, ()) if isinstance(expression, str) else expression
            exprs.append(text)
            args.extend(expression_params)
        else:
            exprs.append("%s")
            args.append(model_field.get_db_prep_save(values.get(model_field.name, model_field.get_default()), connection))
    statement = f"INSERT INTO {qn(meta.db_table)} ({', '.join(columns)}) SELECT {', '.join(exprs)} {select_sql}"
    if returning:
        statement += " RETURNING " + ", ".join(qn(meta.get_field(name).column) for name in returning)
    with connection.cursor() as cursor:
        cursor.execute(statement, [*args, *params])
        return cursor.fetchall() if returning else cursor.rowcount


def aad_for(model, attribute: str, row_uuid) -> str:
    """The AAD an EncryptedAttribute binds its ciphertext to, for rows built without an instance (SEC-37)."""
    return f"{model._meta.label_lower}.{attribute}:{row_uuid}"


def values_in(model, values: Iterable, *, db_type: str = "text") -> RawSQL:
    """A subquery of the given values for `field__in=`, sent as ONE parameter.

    `filter(x__in=[50,000 values])` makes 50,000 placeholders that Django resolves one by one and
    the driver splits again; a JSON list is one value, made in C, and the database unpacks it.
    (A PostgreSQL array parameter would be quoted by the driver element by element, in Python:
    0.4 s for 50,000 values.) `db_type` is the PostgreSQL element type (text, bigint …)."""
    text = json.dumps(list(values), ensure_ascii=False)
    connection = connections[router.db_for_read(model)]
    if connection.vendor == "postgresql":
        return RawSQL(f"SELECT jsonb_array_elements_text(%s::jsonb)::{db_type}", (text,))
    return RawSQL("SELECT value FROM json_each(%s)", (text,))


@contextlib.contextmanager
def gc_paused():
    """Pause Python's cyclic garbage collector while a bulk step builds tens of thousands of rows.

    Every few hundred new dicts the collector would walk all the live rows again (a 50,000-row import
    spends 10–25 % of its Python time there); the rows are freed by reference counting either way, and
    the collector runs again as soon as the step ends."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def analyze(model) -> None:
    """Fresh planner statistics for a table just filled in bulk in the current transaction (PostgreSQL's ANALYZE counts
    the transaction's own new rows): without them a correlated UPDATE … SET x = (SELECT … WHERE fk = outer.id) over it
    is planned as one scan of the table per outer row. A no-op on SQLite, whose planner reads no statistics for this."""
    connection = connections[router.db_for_write(model)]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
