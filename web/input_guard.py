"""One guard for a character no view can store: NUL (U+0000) anywhere in a request's text.

PostgreSQL `text` and `jsonb` cannot hold NUL, and psycopg2 refuses to send it,
so a `%00` in a path, a query argument or a JSON string would reach the
database driver as an exception and become a 500 in whichever view forgot to
check. Instead of a check in every schema, the app refuses such a request
before any view runs, with the one error shape and the field named the way
webargs names it (`path.fi_code`, `query.q`, `json.comment`).

A JSON body is parsed here only when the request says it is JSON; the parse is
cached by Flask, so the view does not decode it twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flask import Flask, request
from flask_smorest import abort

NUL = "\x00"
_QUERY_NUL = ("%00", NUL)
MESSAGE = "不能包含空字符 (NUL) / must not contain a NUL character"


def _nul_paths(value: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Where NUL occurs in decoded JSON: the key path of each string (or key) holding one."""
    if isinstance(value, str):
        if NUL in value:
            yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            if NUL in str(key):
                yield (*path, str(key).replace(NUL, "\\u0000"))
            else:
                yield from _nul_paths(item, (*path, str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _nul_paths(item, (*path, str(index)))


def _nest(path: tuple[str, ...]) -> dict[str, Any] | list[str]:
    if not path:
        return [MESSAGE]
    return {path[0]: _nest(path[1:])}


def refuse_nul() -> None:
    """`before_request`: 422 naming the first place a NUL was found, or nothing."""
    if (
        NUL not in request.path
        # decoding the query string makes a NUL only of "%00" or of a NUL itself
        and not any(mark in request.environ.get("QUERY_STRING", "") for mark in _QUERY_NUL)
        and not (request.content_length and request.is_json)
    ):
        return  # the usual request: nothing to decode or look through
    errors: dict[str, Any] = {}
    if NUL in request.path:
        names = [k for k, v in (request.view_args or {}).items() if NUL in str(v)]
        errors["path"] = {name: [MESSAGE] for name in names} or [MESSAGE]
    bad_args = [key for key, value in request.args.items(multi=True) if NUL in key + value]
    if bad_args:
        errors["query"] = {key.replace(NUL, "\\u0000"): [MESSAGE] for key in bad_args}
    if request.content_length and request.is_json:
        body = request.get_json(silent=True)
        first = next(_nul_paths(body), None)
        if first is not None:
            errors["json"] = _nest(first)
    if errors:
        abort(422, message=MESSAGE, errors=errors)


def init_input_guard(app: Flask) -> None:
    app.before_request(refuse_nul)
