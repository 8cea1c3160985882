"""Settings are read from the environment and refused with a clear message when wrong."""
import pytest

from common import config

GOOD = {"DATABASE_URL": "postgresql://localhost/wms", "REDIS_URL": "redis://localhost:6379/0",
        "INTERNAL_TOKEN": "t", "IDENTITY_SECRET": "s"}


def test_load_reads_every_setting():
    """A complete environment gives settings with service URLs from the ports."""
    settings = config.load("stock", GOOD | {"SCAN_PORT": "9102", "PRINT_URL": "http://printer-host:80"})
    assert settings.service == "stock"
    assert settings.service_urls == {"stock": "http://127.0.0.1:8001", "scan": "http://127.0.0.1:9102",
                                     "print": "http://printer-host:80"}
    assert settings.timezone == "Asia/Shanghai"


@pytest.mark.parametrize("missing", ["DATABASE_URL", "REDIS_URL", "INTERNAL_TOKEN", "IDENTITY_SECRET"])
def test_load_missing_setting_names_it(missing):
    """A missing secret or URL stops start-up with its name in the message."""
    env = {k: v for k, v in GOOD.items() if k != missing}
    with pytest.raises(config.ConfigError, match=missing):
        config.load("stock", env)


@pytest.mark.parametrize(("name", "value"), [("DATABASE_URL", "mysql://x"), ("REDIS_URL", "http://x"),
                                             ("SESSION_TTL_SECONDS", "soon"), ("SESSION_TTL_SECONDS", "-5")])
def test_load_malformed_setting_is_refused(name, value):
    """A malformed value is refused, not silently replaced by a default."""
    with pytest.raises(config.ConfigError, match=name):
        config.load("stock", GOOD | {name: value})


def test_with_overrides_rejects_unknown_names():
    """A typo in a test override fails loudly."""
    settings = config.load("stock", GOOD)
    assert settings.with_overrides({"timezone": "UTC"}).timezone == "UTC"
    with pytest.raises(config.ConfigError):
        settings.with_overrides({"timezon": "UTC"})
