"""Flat error classes and the one handler that renders every 4xx/5xx as the api.md body.

Domain modules raise these (or subclasses with their own code); handlers never build error
responses by hand. The message is chosen in the operator's language at render time.
"""
from __future__ import annotations

import logging
from typing import Any

import psycopg
from flask import Flask, Response, g, request
from marshmallow import ValidationError as SchemaError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException

from common import i18n
from common.jsonutil import dumps

log = logging.getLogger(__name__)


class AppError(Exception):
    """Base of every error a client may see."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str | None = None, *, code: str | None = None,
                 details: dict[str, Any] | None = None, status: int | None = None):
        super().__init__(message or code or self.code)
        self.message = message
        if code:
            self.code = code
        if status:
            self.status = status
        self.details = details or {}


class BadRequestError(AppError):
    status, code = 400, "bad_request"


class MalformedJsonError(AppError):
    status, code = 400, "malformed_json"


class InvalidInputError(AppError):
    status, code = 422, "invalid_input"


class UnauthorizedError(AppError):
    status, code = 401, "unauthorized"


class ForbiddenError(AppError):
    status, code = 403, "forbidden"


class NotFoundError(AppError):
    status, code = 404, "not_found"


class MethodNotAllowedError(AppError):
    status, code = 405, "method_not_allowed"


class ConflictError(AppError):
    status, code = 409, "conflict"


class TooManyRequestsError(AppError):
    status, code = 429, "too_many_requests"


class ServiceUnavailableError(AppError):
    status, code = 503, "service_unavailable"


def error_response(status: int, code: str, message: str | None = None,
                   details: dict[str, Any] | None = None) -> Response:
    """The api.md error body, with the message in the caller's language."""
    text = i18n.message(code, _language(), message, status)
    body = {"error": {"code": code, "message": text, "details": details or {}}}
    return Response(dumps(body), status=status, mimetype="application/json")


def _language() -> str:
    identity = getattr(g, "identity", None)
    if identity is not None and identity.lang:
        return identity.lang
    return i18n.from_accept_language(request.headers.get("Accept-Language", ""))


_HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 409: "conflict", 413: "payload_too_large",
               415: "unsupported_media_type", 429: "too_many_requests"}


def init_app(app: Flask) -> None:
    """Register the handlers so no HTML page or stack trace ever leaves a service."""

    @app.errorhandler(AppError)
    def _app_error(exc: AppError) -> Response:
        return error_response(exc.status, exc.code, exc.message, exc.details)

    @app.errorhandler(SchemaError)
    def _schema_error(exc: SchemaError) -> Response:
        return error_response(422, "invalid_input", None, {"fields": exc.normalized_messages()})

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        code = _HTTP_CODES.get(status, "http_error")
        return error_response(status, code, None, {})

    @app.errorhandler(OperationalError)
    @app.errorhandler(psycopg.OperationalError)  # from a statement run on the driver's cursor (common.db.cursor)
    def _db_down(exc: Exception) -> Response:
        log.error("database unavailable: %s", exc.__class__.__name__)
        return error_response(503, "database_unavailable", None, {})

    @app.errorhandler(RedisConnectionError)
    @app.errorhandler(RedisTimeoutError)
    def _redis_down(exc: Exception) -> Response:
        # Sessions, throttles and queues live in Redis: while it restarts the caller retries.
        log.error("redis unavailable: %s", exc.__class__.__name__)
        return error_response(503, "service_unavailable", None, {"service": "redis"})

    @app.errorhandler(DBAPIError)
    def _db_error(exc: DBAPIError) -> Response:
        if exc.connection_invalidated:
            return error_response(503, "database_unavailable", None, {})
        log.exception("database error")
        return error_response(500, "internal_error", None, {})

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        if isinstance(exc, HTTPException):
            return _http_error(exc)
        log.exception("unhandled error")
        return error_response(500, "internal_error", None, {})
