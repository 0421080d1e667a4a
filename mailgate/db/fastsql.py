"""Cached SQL text for the statements every message runs.

peewee builds each statement from an expression tree on every call; for the short inserts,
updates and primary-key lookups of the ingest path that building costs several times what
SQLite needs to run the statement (a profile of `mailgate import` put ~40% of the database
stages' CPU in peewee's SQL generation and ~5% in SQLite). The text of such a statement
depends only on the model and the set of columns, so it is built once per shape and kept;
values still go through each field's `db_value`, and errors through peewee's
`execute_sql` (so IntegrityError and OperationalError mean what they always meant).

`BaseModel.save()` and `BaseModel.get()` (primary-key lookups, including lazy foreign keys)
use these; anything unusual (an expression as a value, `only=`, composite keys) takes
peewee's own path. Works for SQLite and PostgreSQL (`RETURNING` for new ids).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

import peewee as pw

M = TypeVar("M", bound=pw.Model)

# (database class, model, kind, column names) -> SQL text
_CACHE: dict[tuple[Any, ...], str] = {}


def _database(model: type[pw.Model]) -> pw.Database:
    db = model._meta.database
    return db.obj if isinstance(db, pw.DatabaseProxy) else db


def _sql(db: pw.Database, key: tuple[Any, ...], build: Callable[[], str]) -> str:
    full = (type(db), *key)
    text = _CACHE.get(full)
    if text is None:
        text = _CACHE[full] = build()
    return text


def _q(db: pw.Database, name: str) -> str:
    return name.join(db.quote)  # peewee's quote characters: "" on SQLite and PostgreSQL, `` on MySQL


def save(instance: pw.Model, force_insert: bool) -> int | bool | None:
    """What `Model.save(force_insert)` does, with the statement text cached per shape.
    Returns None when the instance needs peewee's own path."""
    meta = instance._meta
    pk_field = meta.primary_key
    if pk_field is False or meta.composite_key or meta.only_save_dirty:
        return None
    data = dict(instance.__data__)
    if any(isinstance(v, pw.Node) for v in data.values()):
        return None
    instance._populate_unsaved_relations(data)
    pk_name = pk_field.name
    pk_value = instance._pk
    db = _database(type(instance))
    if (meta.auto_increment and pk_value is None) or (pk_value is not None and not force_insert):
        data.pop(pk_name, None)  # a new row gets its id from the database; an update names it in WHERE
    fields = [f for f in meta.sorted_fields if f.name in data]
    names = tuple(f.name for f in fields)
    params = [f.db_value(data[f.name]) for f in fields]
    table = meta.table_name
    if pk_value is not None and not force_insert:
        if not fields:
            raise ValueError("no data to save!")

        def build_update() -> str:
            sets = ", ".join(f"{_q(db, f.column_name)} = {db.param}" for f in fields)
            return f"UPDATE {_q(db, table)} SET {sets} WHERE {_q(db, pk_field.column_name)} = {db.param}"

        cursor = db.execute_sql(_sql(db, (type(instance), "update", names), build_update),
                                [*params, pk_field.db_value(pk_value)])
        rows = cursor.rowcount
    else:
        returning = bool(getattr(db, "returning_clause", False))

        def build_insert() -> str:
            columns = ", ".join(_q(db, f.column_name) for f in fields)
            marks = ", ".join(db.param for _ in fields)
            text = (f"INSERT INTO {_q(db, table)} ({columns}) VALUES ({marks})" if fields
                    else f"INSERT INTO {_q(db, table)} DEFAULT VALUES")
            return text + (f" RETURNING {_q(db, pk_field.column_name)}" if returning else "")

        cursor = db.execute_sql(_sql(db, (type(instance), "insert", names), build_insert), params)
        new_pk = cursor.fetchone()[0] if returning else cursor.lastrowid
        if new_pk is not None and (meta.auto_increment or pk_value is None):
            instance._pk = new_pk
            instance._dirty.discard(pk_name)
        rows = 1
    instance._dirty -= set(names)
    return rows


def from_row(model: type[M], columns: Sequence[str], row: Sequence[Any]) -> M:
    """A model instance from a row whose columns are the model's own column names, converted
    as peewee converts them (python_value), and not dirty."""
    by_column = model._meta.columns
    data = {}
    for column, value in zip(columns, row, strict=True):
        field = by_column[column]
        data[field.name] = field.python_value(value) if value is not None else None
    instance = model(__no_default__=1, **data)
    instance._dirty.clear()
    return instance


def _column_list(db: pw.Database, model: type[pw.Model]) -> tuple[list[str], str]:
    """The model's column names, and the SELECT list naming them with their table (so a
    join cannot make them ambiguous)."""
    columns = [f.column_name for f in model._meta.sorted_fields]
    table = _q(db, model._meta.table_name)
    return columns, ", ".join(f"{table}.{_q(db, c)}" for c in columns)


def by_pk(model: type[M], value: Any) -> M:
    """`model.get_by_id(value)` through a cached statement; raises model.DoesNotExist."""
    db = _database(model)
    meta = model._meta
    columns, listed = _column_list(db, model)
    text = _sql(db, (model, "by_pk"), lambda: (
        f"SELECT {listed} FROM {_q(db, meta.table_name)} WHERE {_q(db, meta.primary_key.column_name)}"
        f" = {db.param} LIMIT 1"))
    row = db.execute_sql(text, [meta.primary_key.db_value(value)]).fetchone()
    if row is None:
        raise model.DoesNotExist(f"{model.__name__} matching {meta.primary_key.name} = {value!r} does not exist")
    return from_row(model, columns, row)


def select_where(model: type[M], key: object, where: Callable[[Sql], str], params: Iterable[Any]) -> list[M]:
    """Instances of `model` for `SELECT <its columns> FROM <its table> <where(sql)>`: the text
    after FROM's table is hand-written once per `key` and database kind, with `sql.p` as the
    placeholder and `sql.t(Model)` / `sql.c(Model.field)` for quoted names (joins included)."""
    db = _database(model)
    columns, listed = _column_list(db, model)
    text = _sql(db, (model, "where", key), lambda: (
        f"SELECT {listed} FROM {_q(db, model._meta.table_name)} {where(Sql(db))}"))
    return [from_row(model, columns, row) for row in db.execute_sql(text, list(params))]


def rows(model: type[pw.Model], key: object, build: Callable[[Sql], str], params: Iterable[Any]) -> list[tuple]:
    """Plain rows of a hand-written statement (built once per `key` and database kind)."""
    return _database(model).execute_sql(cached(model, key, build), list(params)).fetchall()


def cached(model: type[pw.Model], key: object, build: Callable[[Sql], str]) -> str:
    """The text of a hand-written statement, built once per `key` and database kind."""
    db = _database(model)
    return _sql(db, (model, "text", key), lambda: build(Sql(db)))


class Sql:
    """Names and placeholders for hand-written statements, right for the database in use."""

    def __init__(self, db: pw.Database) -> None:
        self.db = db
        self.p = db.param

    def t(self, model: type[pw.Model]) -> str:
        return _q(self.db, model._meta.table_name)

    def c(self, field: pw.Field) -> str:
        return f"{self.t(field.model)}.{self.n(field)}"

    def n(self, field: pw.Field) -> str:
        """The bare quoted column name (INSERT column lists)."""
        return _q(self.db, field.column_name)

    def ps(self, n: int) -> str:
        return ", ".join([self.p] * n)


def primary_key_lookup(model: type[pw.Model], query: tuple[Any, ...], filters: dict[str, Any]) -> tuple[bool, Any]:
    """(True, value) when `model.get(*query, **filters)` is a plain primary-key lookup."""
    if filters or len(query) != 1:
        return False, None
    expr = query[0]
    if (isinstance(expr, pw.Expression) and expr.op == pw.OP.EQ and expr.lhs is model._meta.primary_key
            and not isinstance(expr.rhs, (pw.Node, pw.Model))):
        return True, expr.rhs
    return False, None
