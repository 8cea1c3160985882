"""Every error leaves a service as the api.md JSON body, with a request id."""
from common.testing import assert_error, identity_headers


def test_unknown_path_is_json_404(service):
    """An unknown path is a JSON 404, not an HTML page."""
    assert_error(service("stock").get("/api/stock/no-such-thing"), 404, "not_found")


def test_wrong_method_is_json_405(service):
    """A wrong method is a JSON 405."""
    assert_error(service("stock").request("DELETE", "/api/stock/skus"), 405, "method_not_allowed")


def test_unknown_field_names_the_field(service):
    """An unknown field is a 422 that names it."""
    answer = service("stock", "stock_manager").post("/api/stock/skus", json={"sku": "A", "name": "a", "colour": 1})
    details = assert_error(answer, 422, "invalid_input")
    assert "colour" in details["fields"]


def test_body_not_an_object_is_422(service):
    """A JSON array where an object belongs is refused."""
    assert_error(service("stock", "stock_manager").post("/api/stock/skus", json=[1, 2]), 422, "invalid_input")


def test_wrong_role_is_403(service):
    """A picker cannot create SKUs."""
    answer = service("stock", "picker").post("/api/stock/skus", json={"sku": "A", "name": "a"})
    assert_error(answer, 403, "forbidden")


def test_message_in_operator_language(apps, clean):
    """A Chinese-speaking operator gets the message in Chinese."""
    client = apps["stock"].test_client()
    answer = client.get("/api/stock/skus/NOPE", headers=identity_headers(lang="zh-CN"))
    assert answer.status_code == 404
    assert answer.get_json()["error"]["message"] != "unknown_sku"


def test_bad_signature_is_401(apps, clean):
    """A valid token with a forged identity is refused."""
    headers = identity_headers()
    headers["X-Identity-Signature"] = "0" * 64
    assert_error(apps["stock"].test_client().get("/api/stock/skus/A", headers=headers), 401, "bad_signature")


def test_request_id_is_echoed_or_made(service):
    """The caller's X-Request-ID comes back; without one, a new one is made."""
    stock = service("stock")
    assert stock.get("/api/stock/skus/A", headers={"X-Request-ID": "rid-123"}).headers["X-Request-ID"] == "rid-123"
    assert len(stock.get("/api/stock/skus/A").headers["X-Request-ID"]) == 32


def test_health_and_metrics_need_no_token(apps, clean):
    """Probes and Prometheus reach /healthz and /metrics without credentials."""
    client = apps["stock"].test_client()
    assert client.get("/healthz").get_json() == {"status": "ok", "db": "ok", "redis": "ok"}
    client.get("/api/stock/skus/A", headers=identity_headers())
    assert b"wms_http_requests_total" in client.get("/metrics").data


def test_openapi_lists_every_route(apps):
    """The OpenAPI document is generated from the registered endpoints and their schemas."""
    doc = apps["stock"].test_client().get("/api/stock/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    assert "post" in doc["paths"]["/api/stock/skus"]
    assert "stock.SkuIn" in doc["components"]["schemas"]


def test_database_lost_under_the_drivers_cursor_is_503(test_env):
    """A statement on psycopg's own cursor whose server went away answers 503 database_unavailable, as the ORM's do."""
    import psycopg
    from flask import Flask

    from common import errors

    app = Flask(__name__)
    errors.init_app(app)

    @app.get("/lost")
    def lost():
        with psycopg.connect(test_env["DATABASE_URL"]) as conn, psycopg.connect(test_env["DATABASE_URL"]) as killer:
            killer.execute("SELECT pg_terminate_backend(%s)", (conn.info.backend_pid,))
            conn.execute("SELECT 1")
        return "unreachable"

    assert_error(app.test_client().get("/lost"), 503, "database_unavailable")
