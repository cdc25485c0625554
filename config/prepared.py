"""A query of the filing path built and compiled by the ORM once per thread and database, then run
through a cursor with new values for its marked parameters.

Why: in one process a filing through the API cost ~8 ms of CPU, and building and compiling the API
token's query through the ORM took 1.0 ms of it, the same SQL through a cursor 0.1 ms (README,
"Filing"); the hourly limit's two queries cost the same way. Compiled once, each query keeps its one
source: the queryset its owner writes, with every rule in it. The values that change from call to
call are marked by sentinels (values no real call passes) and found in the compiled parameters; the
rest (times, through the database's Now()) is in the SQL. Rows come back as the queryset's own
iteration would give them: model instances with their select_related relations and annotations,
or values_list tuples.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any

from django.db import connections
from django.db.models import QuerySet, UUIDField
from django.db.models.query import FlatValuesListIterable, ModelIterable, ValuesListIterable, get_related_populators


def _as_is(connection, value: Any) -> Any:
    return value


def datetime_value(connection, value: Any) -> Any:
    """A datetime as the ORM passes it to this database (a string on SQLite)."""
    return connection.ops.adapt_datetimefield_value(value)


_UUID_FIELD = UUIDField()


def uuid_value(connection, value: Any) -> Any:
    """A UUID as the ORM passes it to this database (its hex string where there is no uuid type)."""
    return _UUID_FIELD.get_db_prep_value(value, connection)


class PreparedQuery:
    """`build(**markers)` returns the queryset; `run(**values)` runs its compiled SQL with `values`
    in the markers' places. `adapt[name]` turns a value into what the ORM would have passed to the
    database for it (`datetime_value`); numbers and strings pass as they are. `key()` names what else
    the SQL depends on (a setting it reads)."""

    def __init__(
        self,
        build: Callable[..., QuerySet],
        *,
        markers: dict[str, Any],
        adapt: dict[str, Callable[[Any, Any], Any]] | None = None,
        key: Callable[[], Hashable] = lambda: None,
    ) -> None:
        self.build, self.markers, self.key = build, markers, key
        self.adapt = {name: (adapt or {}).get(name, _as_is) for name in markers}
        self._local = threading.local()

    def _compiled(self, alias: str):
        cache = getattr(self._local, "compiled", None)
        if cache is None:
            cache = self._local.compiled = {}
        cache_key = (alias, connections[alias].vendor, self.key())
        if cache_key not in cache:
            queryset = self.build(**self.markers)
            compiler = queryset.query.get_compiler(using=alias)
            sql, params = compiler.as_sql()
            params = list(params)
            connection = connections[alias]
            positions = {
                name: params.index(self.adapt[name](connection, marker)) for name, marker in self.markers.items()
            }
            cache[cache_key] = (queryset._iterable_class, compiler, sql, params, positions)
        return cache[cache_key]

    def run(self, *, using: str = "default", **values: Any) -> list:
        iterable, compiler, sql, params, positions = self._compiled(using)
        connection = connections[using]
        params = params.copy()
        for name, value in values.items():
            params[positions[name]] = self.adapt[name](connection, value)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        if not rows:
            return []
        if iterable is FlatValuesListIterable:
            return [row[0] for row in compiler.results_iter(results=[rows], tuple_expected=True)]
        if iterable is ValuesListIterable:
            return [tuple(row) for row in compiler.results_iter(results=[rows], tuple_expected=True)]
        if iterable is not ModelIterable:
            raise TypeError(f"PreparedQuery runs model and values_list querysets, not {iterable.__name__}")
        # What django.db.models.query.ModelIterable does with a compiler's rows.
        select, klass_info, annotations = compiler.select, compiler.klass_info, compiler.annotation_col_map
        model = klass_info["model"]
        start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        init_list = [column[0].target.attname for column in select[start:end]]
        populators = get_related_populators(klass_info, select, using)
        objects = []
        for row in compiler.results_iter(results=[rows]):
            obj = model.from_db(using, init_list, row[start:end])
            for populator in populators:
                populator.populate(row, obj)
            for name, position in annotations.items():
                setattr(obj, name, row[position])
            objects.append(obj)
        return objects


class PreparedInsert:
    """An INSERT of one row of `model`, its SQL compiled by the ORM once per thread and database, run
    with the values the ORM's own `create()` would send: each field's `pre_save` (auto_now_add) and
    `get_db_prep_save`, through the compiler that wrote the SQL. An auto-increment primary key is
    read back (RETURNING, or the database's last insert id).

    Why: `OutboxMail.objects.create()` cost 0.20-0.24 ms of CPU and the same SQL through a cursor
    0.07-0.09 ms (in one process, 2026-11-30, README "Filing"); a filing inserts three such rows (the
    report, its audit event and its confirmation). Only for a model with no `save()` of its own and no
    pre_save/post_save receivers, which this skips (tests/test_prepared.py checks the models it is
    used for)."""

    def __init__(self, model: type) -> None:
        self.model = model
        self._local = threading.local()

    def _compiled(self, alias: str):
        cache = getattr(self._local, "compiled", None)
        if cache is None:
            cache = self._local.compiled = {}
        if alias not in cache:
            from django.db.models.sql import InsertQuery

            meta = self.model._meta
            auto_pk = meta.pk if meta.pk.db_returning else None
            fields = [field for field in meta.local_concrete_fields if field is not auto_pk]
            if any(hasattr(field, "get_placeholder") for field in fields):
                raise TypeError(f"{self.model.__name__}: a field writes its own SQL placeholder")
            query = InsertQuery(self.model)
            query.insert_values(fields, [self.model()])
            compiler = query.get_compiler(using=alias)
            if auto_pk is not None and connections[alias].features.can_return_columns_from_insert:
                compiler.returning_fields = [auto_pk]  # as_sql() adds the RETURNING clause
            [(sql, _)] = compiler.as_sql()
            cache[alias] = (fields, compiler, sql, auto_pk)
        return cache[alias]

    def create(self, *, using: str = "default", **values: Any):
        """Like `model.objects.create(**values)`: the saved instance."""
        obj = self.model(**values)
        fields, compiler, sql, auto_pk = self._compiled(using)
        params = [compiler.prepare_value(field, compiler.pre_save_val(field, obj)) for field in fields]
        connection = connections[using]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            if auto_pk is not None:
                if connection.features.can_return_columns_from_insert:
                    [obj.pk] = connection.ops.fetch_returned_insert_columns(cursor, compiler.returning_params)
                else:
                    obj.pk = connection.ops.last_insert_id(cursor, self.model._meta.db_table, auto_pk.column)
        obj._state.adding, obj._state.db = False, using
        return obj
