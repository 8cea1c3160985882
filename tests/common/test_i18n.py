"""Messages follow the operator's language."""
from common import i18n


def test_message_uses_catalogue_language():
    """A Chinese operator reads Chinese, an English one English."""
    assert i18n.message("bad_credentials", "zh-CN") == "工牌或密码错误。"
    assert i18n.message("bad_credentials", "en") == "Wrong badge or PIN."


def test_message_prefers_specific_english_text():
    """An English operator sees the error's own detailed text; an unknown code falls back to it."""
    assert i18n.message("bad_credentials", "en", "Badge EDB_X is locked") == "Badge EDB_X is locked"
    assert i18n.message("no_such_code", "en", "detail") == "detail"
    assert i18n.message("no_such_code", "en") == "no_such_code"


def test_message_unknown_code_uses_status_text():
    """A code with no catalogue entry reads as its HTTP status in the operator's language."""
    assert i18n.message("unregistered_code", "zh-CN", "Thing X is unknown", 404) == "未找到。"
    assert i18n.message("unregistered_code", "en", None, 404) == "Not found."


def test_from_accept_language_defaults_to_chinese():
    """The floor speaks Chinese unless the device asks for English."""
    assert i18n.from_accept_language("") == "zh-CN"
    assert i18n.from_accept_language("en-US,en;q=0.9") == "en"
    assert i18n.from_accept_language("zh-CN,zh;q=0.9") == "zh-CN"
