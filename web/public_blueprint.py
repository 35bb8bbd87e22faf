"""A flask-smorest blueprint whose validation errors speak Chinese to the public.

webargs names the fields that failed (`errors`); the public reads `message`, so
it says the same in Chinese, naming the fields as webargs does (`lat`, `photo`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NoReturn

import marshmallow as ma
from flask_smorest import abort
from flask_smorest.utils import deepupdate

from web.arguments import Blueprint, FieldByFieldParser
from web.public_http import CACHED_GET_DOC, CachePolicy, PublicGets

INVALID_MESSAGE = "请求有误，请检查："  # a query or a body
MP_PREFIX = "/api/mp/v1"  # the mini-program's API (`miniprogram_api`); photo URLs point there


def _dotted(errors: Any, prefix: str = "") -> list[str]:
    """Dotted names of the fields in webargs' nested errors, without the location key."""
    if not isinstance(errors, Mapping):
        return [prefix] if prefix else []
    names: list[str] = []
    for key, value in errors.items():
        at_top = not prefix and key in ("json", "query", "path", "form", "files", "headers")
        names.extend(_dotted(value, "" if at_top else f"{prefix}.{key}" if prefix else str(key)))
    return names


class PublicParser(FieldByFieldParser):
    """webargs' parser, adding a Chinese `message` that names the fields."""

    def handle_error(
        self,
        error: ma.ValidationError,
        req: Any,
        schema: ma.Schema,
        *,
        error_status_code: int | None,
        error_headers: Mapping[str, str] | None,
    ) -> NoReturn:
        abort(
            error_status_code or self.DEFAULT_VALIDATION_STATUS,
            exc=error,
            messages=error.messages,
            schema=schema,
            headers=error_headers,
            message=INVALID_MESSAGE + "、".join(_dotted(error.messages)),
        )
        raise AssertionError("abort returned")  # pragma: no cover


class PublicBlueprint(Blueprint):
    ARGUMENTS_PARSER = PublicParser()

    def cache(self, policies: Mapping[str, CachePolicy]) -> None:
        """Give the named views' GETs validators, cache lifetimes and rate limits
        (web.public_http); call once, after the views are defined."""
        gets = PublicGets(self.name, policies)
        self.before_request(gets.before)
        self.after_request(gets.after)
        for view in policies:  # merged into each GET's generated documentation
            doc = self._docs[view]["get"]  # flask-smorest's per-endpoint doc store
            doc["manual_doc"] = deepupdate(doc.get("manual_doc", {}), CACHED_GET_DOC)
