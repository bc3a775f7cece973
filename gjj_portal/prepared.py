"""Reads a page runs on every request, with the SQL Django writes for them kept for the life of the process (issue 18).

Building a queryset and compiling it costs a page 0.1–0.5 ms of Python per query (up to ~1,200 function calls). That
work is the same on every request: only the values change, such as which employer and which agent. `prepared(build)`
calls `build` once per process with markers in place of its arguments. It keeps the SQL and the compiler Django
wrote, and notes where each marker landed among the query's parameters. After that, each call runs the kept SQL with
the call's values. The rows come back through the compiler's own converters: as `values_list()` tuples (plain or
named), or as model instances (with their annotations) for a model queryset. The query is still written with the
ORM; only its compilation is kept. gjj_portal.paging.PreparedList pages a list this way, a cursor's values being
arguments too.

What may be prepared: a queryset whose SQL does not depend on its values. That means ints, strs, dates and aware
datetimes compared with `=`, `<`, `>=` and so on; not None, not a list for `__in`, not a pattern for `__contains` or
`__startswith`, and no `select_related()` (read a related column with F()). At the first call, the compilation is
refused (ValueError) when a marker does not reach the parameters as it was given, or as the backend passes such a
value on (SQLite: a date as its text). tests/gjj_portal/test_prepared.py holds the rules; each page's tests run its
prepared reads on SQLite and on PostgreSQL.
"""

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from threading import Lock
from typing import Any

from django.core.exceptions import EmptyResultSet, FullResultSet
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import QuerySet
from django.db.models.utils import create_namedtuple_class

_INT_MARK = 2_147_480_000  # below 2**31 - 1: an IntegerField lookup out of its range compiles to "no rows"
_DATE_MARK = date(1800, 1, 1)  # far from any real value, with room for a month before it
_DATETIME_MARK = datetime(2001, 1, 1, tzinfo=UTC)
# How a backend may pass a value on (SQLite: a date or a datetime as text): tried in this order against each parameter.
_ADAPTERS = (None, "adapt_datefield_value", "adapt_datetimefield_value")


def _marker(index: int, value: Any, variant: int = 0) -> Any:
    """The marker of the index-th argument; `variant` 1 gives a second, different set (the check for derived values)."""
    if isinstance(value, bool):
        raise ValueError("a prepared read takes no bool argument (its SQL may differ): write it into the query")
    if isinstance(value, int):
        return _INT_MARK + index + 1000 * variant
    if isinstance(value, str):
        return f"\ue000prepared-{variant}-{index}\ue000"
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("a prepared read takes aware datetimes only")
        return _DATETIME_MARK + timedelta(days=400 * variant, microseconds=index + 1)
    if isinstance(value, date):
        return _DATE_MARK + timedelta(days=index + 400 * variant)
    raise ValueError(f"a prepared read takes ints, strs, dates and datetimes, not {type(value).__name__}")


class _Compiled:
    __slots__ = ("sql", "params", "slots", "compiler", "model", "init_list", "annotations", "named", "start")

    def __init__(self, queryset: QuerySet, markers: dict[str, Any], using: str):
        query = queryset.query
        if query.select_related:
            raise ValueError("a prepared read does not follow select_related(): read the related columns with F()")
        compiler = query.get_compiler(using=using)
        try:
            sql, params = compiler.as_sql()
        except (EmptyResultSet, FullResultSet) as refused:  # a marker outside a small integer field's range
            raise ValueError("the SQL of this read depends on its values: it cannot be prepared") from refused
        self.sql, self.params, self.compiler = sql, list(params), compiler
        # Where each argument goes: (position, name, how the backend passes it on: as given, through an adapter of the
        # backend's operations, or as a psycopg int type).
        ops = connections[using].ops
        self.slots = []
        found = set()
        for position, param in enumerate(self.params):
            for name, mark in markers.items():
                for adapter in _ADAPTERS:
                    if adapter is None:
                        passed = mark
                    elif adapter == ("adapt_datetimefield_value" if isinstance(mark, datetime) else "adapt_datefield_value"):
                        passed = getattr(ops, adapter)(mark)
                        if type(passed) is type(mark):
                            continue  # passed on as it is: matched above, if at all
                    else:
                        continue  # not this kind of value's adapter
                    if type(param) is type(passed) and param == passed:
                        self.slots.append((position, name, adapter))
                        found.add(name)
                        break
                    if adapter is None and type(mark) is int and isinstance(param, int) and param == mark:
                        # PostgreSQL: Django passes an IntegerField's value as psycopg's Int4 (an int of a given width)
                        self.slots.append((position, name, type(param)))
                        found.add(name)
                        break
        missing = set(markers) - found
        if missing:
            raise ValueError(f"the SQL of this read does not take {sorted(missing)} as given: it cannot be prepared")
        iterable = queryset._iterable_class.__name__
        self.model = self.init_list = self.annotations = self.named = self.start = None
        if iterable == "ModelIterable":
            if compiler.klass_info.get("related_klass_infos"):
                raise ValueError("a prepared model read has no related rows")
            self.model = compiler.klass_info["model"]
            fields = compiler.klass_info["select_fields"]
            self.start = fields[0]
            self.init_list = [column[0].target.attname for column in compiler.select[fields[0]:fields[-1] + 1]]
            self.annotations = list(compiler.annotation_col_map.items())
        elif iterable == "NamedValuesListIterable":
            self.named = create_namedtuple_class(*(queryset._fields or [*query.extra_select, *query.values_select, *query.annotation_select]))
        elif iterable != "ValuesListIterable":
            raise ValueError("a prepared read gives model instances or values_list() tuples (plain or named; not flat, not dicts)")

    def run(self, using: str, values: dict[str, Any]) -> list:
        connection = connections[using]
        params = list(self.params)
        for position, name, adapter in self.slots:
            value = values[name]
            if adapter is None:
                params[position] = value
            elif isinstance(adapter, str):
                params[position] = getattr(connection.ops, adapter)(value)
            else:
                params[position] = adapter(value)
        with connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            rows = cursor.fetchall()
        rows = self.compiler.results_iter(results=[rows], tuple_expected=True)
        if self.named is not None:
            new, named = tuple.__new__, self.named
            return [new(named, row) for row in rows]
        if self.model is None:
            return list(rows)
        from_db, init_list, annotations = self.model.from_db, self.init_list, self.annotations
        start = self.start
        end = start + len(init_list)
        found = []
        for row in rows:
            obj = from_db(using, init_list, row[start:end])
            for attr, position in annotations:
                setattr(obj, attr, row[position])
            found.append(obj)
        return found


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
            with self._lock:
                compiled = self._compiled.get(key) or self._compiled.setdefault(key, self._compile(values))
        return compiled.run(self.using, values)

    def _compile(self, values: dict[str, Any]) -> _Compiled:
        ordered = sorted(values.items())
        markers = {name: _marker(n, value) for n, (name, value) in enumerate(ordered)}
        compiled = _Compiled(self.build(**markers), markers, self.using)
        # Built again with other markers: every parameter that moves must be an argument's slot. A value that `build`
        # computes from an argument (a month after it, a pattern around it) would otherwise be kept as the marker's.
        other = {name: _marker(n, value, variant=1) for n, (name, value) in enumerate(ordered)}
        try:
            sql, params = self.build(**other).query.get_compiler(using=self.using).as_sql()
        except (EmptyResultSet, FullResultSet) as refused:
            raise ValueError("the SQL of this read depends on its values: it cannot be prepared") from refused
        slots = {position for position, _name, _adapter in compiled.slots}
        moved = [n for n, (a, b) in enumerate(zip(compiled.params, params, strict=False)) if n not in slots and a != b]
        if sql != compiled.sql or len(params) != len(compiled.params) or moved:
            raise ValueError("the SQL of this read depends on its values (build computes a value from an argument, or"
                             " the query's shape follows one): pass every value the query compares as an argument")
        return compiled

    def queryset(self, **values: Any) -> QuerySet:
        """The same read as a queryset, built and compiled as usual (what the tests compare against)."""
        return self.build(**values)


def prepared(build: Callable[..., QuerySet]) -> Prepared:
    return Prepared(build)


def counted(queryset: QuerySet) -> QuerySet:
    """The rows of a plain filtered queryset counted, as a one-row values_list a prepared read can take (COUNT as a
    plain function, not an aggregate, so that Django adds no GROUP BY): prepared(lambda …: counted(qs))()[0][0]."""
    from django.db.models import F, Func, IntegerField

    return queryset.order_by().values_list(Func(F("pk"), function="COUNT", output_field=IntegerField()))


def fixed_width(keys: list, width: int, prefix: str = "key") -> dict[str, Any]:
    """`keys` (at least one) as the arguments {prefix}_0 … {prefix}_{width - 1} of a prepared read that takes them as an
    `__in` list: the first repeated to fill it, so that a list of any length up to `width` runs one SQL."""
    return {f"{prefix}_{n}": key for n, key in enumerate(keys + keys[:1] * (width - len(keys)))}
