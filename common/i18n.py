"""Error and scan messages in the operator's language (zh-CN and en).

Services add their own codes with `register`; a code without a translation falls back to the
English text the error carried, then to the code itself.
"""
from __future__ import annotations

LANGUAGES = ("zh-CN", "en")
DEFAULT_LANGUAGE = "zh-CN"

_CATALOGUE: dict[str, dict[str, str]] = {
    "bad_request": {"en": "The request is not valid.", "zh-CN": "请求无效。"},
    "malformed_json": {"en": "The request body is not valid JSON.", "zh-CN": "请求内容不是有效的 JSON。"},
    "invalid_input": {"en": "Some fields are not valid.", "zh-CN": "部分字段无效。"},
    "unauthorized": {"en": "Please log in.", "zh-CN": "请先登录。"},
    "forbidden": {"en": "Your role does not allow this.", "zh-CN": "您的角色无权执行此操作。"},
    "not_found": {"en": "Not found.", "zh-CN": "未找到。"},
    "method_not_allowed": {"en": "This action is not allowed here.", "zh-CN": "此处不允许该操作。"},
    "conflict": {"en": "This conflicts with the current state.", "zh-CN": "与当前状态冲突。"},
    "payload_too_large": {"en": "The request is too large.", "zh-CN": "请求内容过大。"},
    "unsupported_media_type": {"en": "Unsupported content type.", "zh-CN": "不支持的内容类型。"},
    "too_many_requests": {"en": "Too many requests, wait a moment.", "zh-CN": "请求过多，请稍候。"},
    "internal_error": {"en": "Something went wrong on the server.", "zh-CN": "服务器出错。"},
    "database_unavailable": {"en": "The database is unavailable, try again.", "zh-CN": "数据库暂不可用，请重试。"},
    "service_unavailable": {"en": "A service is unavailable, try again.", "zh-CN": "服务暂不可用，请重试。"},
    "idempotency_key_reused": {"en": "This Idempotency-Key was used for another request.",
                               "zh-CN": "此幂等键已用于其他请求。"},
    "request_in_progress": {"en": "The same request is still being processed.", "zh-CN": "相同请求正在处理中。"},
    "bad_credentials": {"en": "Wrong badge or PIN.", "zh-CN": "工牌或密码错误。"},
    "too_many_attempts": {"en": "Too many failed logins, wait 5 minutes.",
                          "zh-CN": "登录失败次数过多，请 5 分钟后再试。"},
    "operator_exists": {"en": "An operator with this badge exists.", "zh-CN": "该工牌的操作员已存在。"},
}


def register(messages: dict[str, dict[str, str]]) -> None:
    """Add a service's own codes to the catalogue."""
    _CATALOGUE.update(messages)


STATUS_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
                405: "method_not_allowed", 409: "conflict", 422: "invalid_input", 429: "too_many_requests",
                503: "service_unavailable"}


def message(code: str, lang: str, fallback: str | None = None, status: int | None = None) -> str:
    """The text for `code` in `lang`.

    An English operator gets the error's own specific text when it has one; otherwise the
    catalogue entry; a code with no entry falls back to the generic text of its HTTP status, so a
    Chinese operator never reads an English sentence or a bare code.
    """
    if lang == "en" and fallback:
        return fallback
    entry = _CATALOGUE.get(code)
    if entry is None and status in STATUS_CODES:
        entry = _CATALOGUE[STATUS_CODES[status]]
    if entry is None:
        return fallback or code
    return entry.get(lang) or entry.get("en") or code


def from_accept_language(header: str) -> str:
    """Pick zh-CN or en from an Accept-Language header; the floor's default is Chinese."""
    header = header.lower()
    if not header:
        return DEFAULT_LANGUAGE
    first = header.split(",")[0].strip()
    return "en" if first.startswith("en") else DEFAULT_LANGUAGE
