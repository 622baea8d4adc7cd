import pytest
from fastapi.testclient import TestClient

from dashboard.storage import dynamo, items
from tests.unit.aws_events import recording
from tests.unit.conftest import put_article


@pytest.fixture
def articles(client: TestClient) -> TestClient:
    put_article(10, "positive", 0.8, "tech")
    put_article(50, "negative", -0.6, "tech")
    put_article(90, "neutral", 0.0, "markets")
    put_article(60 * 30, "positive", 0.9, "markets")  # 30 hours ago
    put_article(5, "positive", 0.7, "tech", status="pending")
    return client


def test_metrics_counts_analyzed_items_in_the_window(articles: TestClient) -> None:
    response = articles.get("/api/v2/metrics", params={"hours": 24})

    assert response.status_code == 200
    body = response.json()
    assert body["hours"] == 24
    assert body["counts"] == {
        "total": 3,
        "positive": 1,
        "neutral": 1,
        "negative": 1,
        "average_score": pytest.approx(0.0667, abs=1e-4),
    }
    assert body["top_tags"] == {"tech": 2, "markets": 1}


def test_metrics_wider_window_includes_older_items(articles: TestClient) -> None:
    assert articles.get("/api/v2/metrics", params={"hours": 48}).json()["counts"]["total"] == 4


@pytest.mark.parametrize("hours", ["0", "169", "-1", "abc"])
def test_metrics_hours_outside_1_to_168_is_422(client: TestClient, hours: str) -> None:
    response = client.get("/api/v2/metrics", params={"hours": hours})

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "hours"]


def test_sentiment_by_tag_in_the_default_window(articles: TestClient) -> None:
    response = articles.get("/api/v2/sentiment", params={"tags": "tech,markets"})

    assert response.status_code == 200
    tags = {entry["tag"]: entry["counts"] for entry in response.json()["tags"]}
    assert tags["tech"]["total"] == 3  # includes the pending item: by_tag is not status-filtered
    assert tags["markets"]["total"] == 1


def test_sentiment_with_explicit_window(articles: TestClient) -> None:
    response = articles.get(
        "/api/v2/sentiment",
        params={"tags": "markets", "start": "2026-11-18T00:00:00Z", "end": "2026-11-20T15:30:00Z"},
    )

    assert response.status_code == 200
    assert response.json()["tags"][0]["counts"]["total"] == 2


def test_sentiment_without_tags_is_422(client: TestClient) -> None:
    response = client.get("/api/v2/sentiment")

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "tags"]


@pytest.mark.parametrize("tags", [",", "bad tag", "x" * 51, ",".join(f"t{i}" for i in range(11))])
def test_sentiment_with_invalid_tags_is_422_with_a_message(client: TestClient, tags: str) -> None:
    response = client.get("/api/v2/sentiment", params={"tags": tags})

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "tags"]


def test_sentiment_with_start_after_end_is_422(client: TestClient) -> None:
    response = client.get(
        "/api/v2/sentiment",
        params={"tags": "tech", "start": "2026-11-20T00:00:00Z", "end": "2026-11-19T00:00:00Z"},
    )

    assert response.status_code == 422
    assert response.json()["detail"] == [
        {"type": "value_error", "loc": ["query", "start"], "msg": "start must be before end"}
    ]


def test_sentiment_with_unparseable_date_is_422(client: TestClient) -> None:
    response = client.get("/api/v2/sentiment", params={"tags": "tech", "start": "yesterday"})

    assert response.status_code == 422


def test_trends_are_hourly_buckets(articles: TestClient) -> None:
    response = articles.get("/api/v2/trends", params={"hours": 3})

    assert response.status_code == 200
    points = response.json()["points"]
    assert [p["hour"] for p in points] == ["2026-11-20T14:00:00Z", "2026-11-20T15:00:00Z"]
    assert sum(p["count"] for p in points) == 3


def test_trends_for_one_tag(articles: TestClient) -> None:
    body = articles.get("/api/v2/trends", params={"hours": 48, "tag": "markets"}).json()

    assert body["tag"] == "markets"
    assert sum(p["count"] for p in body["points"]) == 2


def test_articles_newest_first_with_limit(articles: TestClient) -> None:
    body = articles.get("/api/v2/articles", params={"limit": 2}).json()

    assert body["count"] == 2
    assert [a["title"] for a in body["articles"]] == ["tech story 10", "tech story 50"]


def test_articles_filtered_by_sentiment(articles: TestClient) -> None:
    body = articles.get("/api/v2/articles", params={"sentiment": "positive"}).json()

    assert {a["sentiment"] for a in body["articles"]} == {"positive"}
    assert body["count"] == 3


def test_articles_with_unknown_sentiment_is_422(client: TestClient) -> None:
    assert client.get("/api/v2/articles", params={"sentiment": "angry"}).status_code == 422


def test_sentiment_endpoints_say_they_are_not_configured_without_naming_the_setting(
    moto: None,
) -> None:
    from dashboard.settings import Settings
    from tests.unit.conftest import API_KEY, make_client

    client = make_client(
        Settings(users_table="users", environment="local"), {"Authorization": f"Bearer {API_KEY}"}
    )

    response = client.get("/api/v2/metrics")

    assert response.status_code == 503
    assert response.json()["detail"].startswith("not configured:")
    assert "DATABASE_TABLE" not in response.text


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"end": "0001-01-01T00:00:00"}, "end"),
        ({"end": "0001-01-01T12:00:00+05:00"}, "end"),
        ({"start": "0001-01-01T00:00:00+05:00"}, "start"),
        ({"end": "9999-12-31T23:00:00-05:00"}, "end"),
        ({"start": "9999-12-31T00:00:00"}, "start"),
        ({"start": "1969-12-31T00:00:00Z", "end": "1970-01-01T01:00:00Z"}, "start"),
    ],
)
def test_sentiment_dates_near_the_calendar_limits_are_422(
    client: TestClient, params: dict[str, str], field: str
) -> None:
    response = client.get("/api/v2/sentiment", params={"tags": "tech", **params})

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["query", field]
    assert error["msg"] == (
        f"{field} must be between 1970-01-01T00:00:00Z and 9999-01-01T00:00:00Z"
    )


def test_metrics_count_the_newest_items_and_say_when_the_window_held_more(
    articles: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(items, "MAX_ITEMS", 2)

    body = articles.get("/api/v2/metrics", params={"hours": 48}).json()

    assert body["partial"] is True
    assert body["counts"]["total"] == 2
    assert body["top_tags"] == {"tech": 2}  # the items 10 and 50 minutes old, not the oldest


def test_metrics_within_the_bound_are_not_partial(articles: TestClient) -> None:
    assert articles.get("/api/v2/metrics", params={"hours": 48}).json()["partial"] is False


def test_trends_are_partial_when_the_window_held_more(
    articles: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(items, "MAX_ITEMS", 1)

    body = articles.get("/api/v2/trends", params={"hours": 48}).json()

    assert body["partial"] is True
    assert body["points"] == [{"hour": "2026-11-20T15:00:00Z", "count": 1, "average_score": 0.8}]


def test_sentiment_shares_one_bound_between_its_tags(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    tags = [f"t{i}" for i in range(10)]
    for tag in tags:
        for minutes in (10, 20, 30):
            put_article(minutes, "positive", 0.5, tag)
    monkeypatch.setattr(items, "MAX_ITEMS", 10)

    with recording("query") as queries:
        body = client.get("/api/v2/sentiment", params={"tags": ",".join(tags)}).json()

    assert body["partial"] is True
    assert all(entry["partial"] and entry["counts"]["total"] == 1 for entry in body["tags"])
    assert len(queries) <= dynamo.MAX_PAGES
    assert sum(query["count"] for query in queries) <= 10 + len(tags)  # + one probe per tag


def test_articles_asks_dynamodb_for_no_more_than_the_limit(articles: TestClient) -> None:
    with recording("query") as queries:
        body = articles.get("/api/v2/articles", params={"limit": 1}).json()

    assert body["count"] == 1
    assert [query["params"]["Limit"] for query in queries] == [1]
