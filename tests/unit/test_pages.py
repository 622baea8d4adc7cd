import pytest
from httpx2 import Client

from tests.unit.conftest import ORIGIN


def test_dashboard_page_is_html_with_local_assets_only(anonymous: Client) -> None:
    response = anonymous.get("/")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert 'id="resolution"' in response.text
    assert "http://" not in response.text
    assert "https://" not in response.text


def test_static_assets_are_served(anonymous: Client) -> None:
    assert anonymous.get("/static/app.js").status_code == 200
    assert anonymous.get("/static/style.css").headers["content-type"].startswith("text/css")


def test_favicon_is_served_so_browsers_log_no_404(anonymous: Client) -> None:
    response = anonymous.get("/favicon.ico")

    assert response.status_code == 200
    assert response.headers["content-type"] == "image/svg+xml"


def test_api_index_lists_the_endpoints(anonymous: Client) -> None:
    body = anonymous.get("/api").json()

    assert body["service"] == "sentiment-dashboard"
    assert "GET /api/v2/tickers/{ticker}/ohlc?range&resolution" in body["endpoints"]


def test_openapi_document_and_docs_are_public(anonymous: Client) -> None:
    spec = anonymous.get("/openapi.json").json()

    assert "/api/v2/configurations" in spec["paths"]
    assert anonymous.get("/docs").status_code == 200


def test_unknown_path_is_404_json(anonymous: Client) -> None:
    response = anonymous.get("/does-not-exist")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


def test_cors_allows_the_configured_origin(anonymous: Client) -> None:
    response = anonymous.get("/health", headers={"Origin": ORIGIN})

    assert response.headers["access-control-allow-origin"] == ORIGIN


def test_cors_preflight_for_the_api(anonymous: Client) -> None:
    response = anonymous.options(
        "/api/v2/metrics",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
    )

    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ORIGIN


def test_cors_ignores_other_origins(anonymous: Client) -> None:
    response = anonymous.get("/health", headers={"Origin": "https://evil.example.com"})

    assert "access-control-allow-origin" not in response.headers


@pytest.mark.parametrize("path", ["/static/app.js%00.png", "/static/%00", "/static/" + "a" * 5000])
def test_static_paths_no_file_can_have_are_404(anonymous: Client, path: str) -> None:
    assert anonymous.get(path).status_code == 404
