"""Reads a page runs on every request, with the SQL Django writes for them kept for the life of the process (issue 18).

Building a queryset and compiling it costs a page 0.1–0.5 ms of Python per query (up to ~1,200 function calls). That
work is the same on every request: only the values change, such as which employer and which agent. `prepared(build)`
calls `build` once per process with markers in place of its arguments. It keeps the SQL and the compiler Django
wrote, and notes where each marker landed among the query's parameters. After that, each call runs the kept SQL with
the call's values. The rows come back through the compiler's own converters, as `values_list()` tuples, or as model
instances for a plain model queryset. The query is still written with the ORM; only its compilation is kept.

What may be prepared: a queryset whose SQL does not depend on its values. That means ints, strs and dates compared
with `=`, `<`, `>=` and so on; not None, not a list for `__in`, not a pattern for `__contains` or `__startswith`, and
no `select_related()`. At the first call, the compilation is refused (ValueError) when a marker does not reach the
parameters exactly as it was given. tests/gjj_portal/test_prepared.py runs every prepared read of the project
against its queryset.
"""

from collections.abc import Callable
from datetime import date, datetime, timedelta
from threading import Lock
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import QuerySet

_INT_MARK = 2_147_480_000  # below 2**31 - 1: an IntegerField lookup out of its range compiles to "no rows"
_DATE_MARK = date(1, 1, 1)


def _marker(index: int, value: Any) -> Any:
    if isinstance(value, bool) or isinstance(value, datetime):
        raise ValueError("a prepared read takes no bool or datetime argument: write it into the query, or pass a date")
    if isinstance(value, int):
        return _INT_MARK + index
    if isinstance(value, str):
        return f"\ue000prepared-{index}\ue000"
    if isinstance(value, date):
        return _DATE_MARK + timedelta(days=index)
    raise ValueError(f"a prepared read takes ints, strs and dates, not {type(value).__name__}")


class _Compiled:
    __slots__ = ("sql", "params", "slots", "compiler", "model", "init_list")

    def __init__(self, queryset: QuerySet, markers: dict[str, Any], using: str):
        query = queryset.query
        if query.select_related:
            raise ValueError("a prepared read does not follow select_related(): list the columns with values_list()")
        compiler = query.get_compiler(using=using)
        sql, params = compiler.as_sql()
        self.sql, self.params, self.compiler = sql, list(params), compiler
        # Where each argument goes: (position, name, as_text). SQLite receives a date as its ISO text.
        self.slots = []
        found = set()
        for position, param in enumerate(self.params):
            for name, mark in markers.items():
                if param == mark and type(param) is type(mark):
                    self.slots.append((position, name, False))
                    found.add(name)
                elif isinstance(mark, date) and param == mark.isoformat():
                    self.slots.append((position, name, True))
                    found.add(name)
        missing = set(markers) - found
        if missing:
            raise ValueError(f"the SQL of this read does not take {sorted(missing)} as given: it cannot be prepared")
        iterable = queryset._iterable_class.__name__
        if iterable == "ModelIterable":
            if compiler.annotation_col_map or compiler.klass_info.get("related_klass_infos"):
                raise ValueError("a prepared model read has no annotations and no related rows")
            self.model = compiler.klass_info["model"]
            fields = compiler.klass_info["select_fields"]
            self.init_list = [column[0].target.attname for column in compiler.select[fields[0]:fields[-1] + 1]]
        elif iterable == "ValuesListIterable":
            self.model, self.init_list = None, None
        else:
            raise ValueError("a prepared read gives model instances or values_list() tuples (not flat, named or dicts)")

    def run(self, using: str, values: dict[str, Any]) -> list:
        params = list(self.params)
        for position, name, as_text in self.slots:
            value = values[name]
            params[position] = value.isoformat() if as_text else value
        with connections[using].cursor() as cursor:
            cursor.execute(self.sql, params)
            rows = cursor.fetchall()
        rows = self.compiler.results_iter(results=[rows], tuple_expected=True)
        if self.model is None:
            return list(rows)
        from_db, init_list = self.model.from_db, self.init_list
        return [from_db(using, init_list, row) for row in rows]


class Prepared:
    """A read compiled once per process and database; call it with the same keyword arguments as `build`."""

    def __init__(self, build: Callable[..., QuerySet], using: str = DEFAULT_DB_ALIAS):
        self.build, self.using = build, using
        self._compiled: dict[tuple, _Compiled] = {}
        self._lock = Lock()

    def _key(self, values: dict[str, Any]) -> tuple:
        connection = connections[self.using]
        # The kind of each value is part of the key: a str and an int for the same argument are two compilations.
        return (connection.vendor, connection.settings_dict["NAME"], tuple((k, type(v)) for k, v in sorted(values.items())))

    def __call__(self, **values: Any) -> list:
        key = self._key(values)
        compiled = self._compiled.get(key)
        if compiled is None:
            markers = {name: _marker(n, value) for n, (name, value) in enumerate(sorted(values.items()))}
            with self._lock:
                compiled = self._compiled.setdefault(key, _Compiled(self.build(**markers), markers, self.using))
        return compiled.run(self.using, values)

    def queryset(self, **values: Any) -> QuerySet:
        """The same read as a queryset, built and compiled as usual (what the tests compare against)."""
        return self.build(**values)


def prepared(build: Callable[..., QuerySet]) -> Prepared:
    return Prepared(build)
