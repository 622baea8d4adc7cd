import re

import pytest
from httpx2 import Client

from dashboard.storage import dynamo, items
from tests.unit.aws_events import recording
from tests.unit.conftest import put_article


@pytest.fixture
def articles(client: Client) -> Client:
    put_article(10, "positive", 0.8, "tech")
    put_article(50, "negative", -0.6, "tech")
    put_article(90, "neutral", 0.0, "markets")
    put_article(60 * 30, "positive", 0.9, "markets")  # 30 hours ago
    put_article(5, "positive", 0.7, "tech", status="pending")
    return client


def test_metrics_counts_analyzed_items_in_the_window(articles: Client) -> None:
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


def test_metrics_wider_window_includes_older_items(articles: Client) -> None:
    assert articles.get("/api/v2/metrics", params={"hours": 48}).json()["counts"]["total"] == 4


@pytest.mark.parametrize("hours", ["0", "169", "-1", "abc"])
def test_metrics_hours_outside_1_to_168_is_422(client: Client, hours: str) -> None:
    response = client.get("/api/v2/metrics", params={"hours": hours})

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "hours"]


def test_sentiment_by_tag_in_the_default_window(articles: Client) -> None:
    response = articles.get("/api/v2/sentiment", params={"tags": "tech,markets"})

    assert response.status_code == 200
    tags = {entry["tag"]: entry["counts"] for entry in response.json()["tags"]}
    assert tags["tech"]["total"] == 3  # includes the pending item: by_tag is not status-filtered
    assert tags["markets"]["total"] == 1


def test_sentiment_over_the_hours_before_an_explicit_end(articles: Client) -> None:
    response = articles.get(
        "/api/v2/sentiment", params={"tags": "markets", "end": "2026-11-20T15:30:00Z", "hours": 48}
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["start"], body["end"]) == ("2026-11-18T15:30:00Z", "2026-11-20T15:30:00Z")
    assert body["tags"][0]["counts"]["total"] == 2


def test_sentiment_end_with_an_offset_is_converted_to_utc(articles: Client) -> None:
    response = articles.get(
        "/api/v2/sentiment", params={"tags": "markets", "end": "2026-11-20T17:30:00+02:00"}
    )

    assert response.json()["end"] == "2026-11-20T15:30:00Z"


def test_sentiment_without_tags_is_422(client: Client) -> None:
    response = client.get("/api/v2/sentiment")

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "tags"]


INVALID_TAGS = ["", ",", "tech,", "tech, markets", "bad tag", "x" * 51, ",".join("t" * 11)]


@pytest.mark.parametrize("tags", INVALID_TAGS)
def test_sentiment_with_invalid_tags_is_422_with_a_message(client: Client, tags: str) -> None:
    response = client.get("/api/v2/sentiment", params={"tags": tags})

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "tags"]


def test_sentiment_tags_are_case_insensitive_and_counted_once(articles: Client) -> None:
    body = articles.get("/api/v2/sentiment", params={"tags": "Tech,TECH,tech"}).json()

    assert [entry["tag"] for entry in body["tags"]] == ["tech"]


@pytest.mark.parametrize("hours", ["0", "2161", "1.5"])
def test_sentiment_window_outside_1_to_2160_hours_is_422(client: Client, hours: str) -> None:
    response = client.get("/api/v2/sentiment", params={"tags": "tech", "hours": hours})

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "hours"]


ACCEPTED_ENDS = [
    "2026-11-20T15:30:00Z",
    "2026-11-20t15:30:00z",
    "2026-11-20T15:30:00.123456789+05:30",
    "1970-01-01T00:00:00+05:00",  # 1969 in UTC: the written year counts
    "2999-12-31T23:59:59-23:59",
]
REFUSED_ENDS = [
    "0001-01-01T00:00:00Z",
    "0001-01-01T12:00:00+05:00",
    "9999-12-31T23:00:00-05:00",
    "1969-12-31T23:59:59Z",
    "3000-01-01T00:00:00Z",
    "2026-11-20T15:30:00",  # no offset
    "2026-11-20",
    "1700000000",  # a Unix time, which a lenient parser would take
    "2026-02-30T00:00:00Z",  # no such day
    "2026-11-20T23:59:60Z",  # no leap second
    "2026-11-20 15:30:00Z",
    "yesterday",
]


@pytest.mark.parametrize("end", ACCEPTED_ENDS)
def test_sentiment_end_in_rfc_3339_within_the_years_1970_to_2999_is_accepted(
    client: Client, end: str
) -> None:
    assert client.get("/api/v2/sentiment", params={"tags": "tech", "end": end}).status_code == 200


@pytest.mark.parametrize("end", REFUSED_ENDS)
def test_sentiment_end_outside_that_rule_is_422_naming_it(client: Client, end: str) -> None:
    response = client.get("/api/v2/sentiment", params={"tags": "tech", "end": end})

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["query", "end"]
    assert error["msg"].startswith("end must be an RFC 3339 date-time with an offset")


def test_the_document_states_the_end_and_tags_rules_the_service_enforces(
    client: Client,
) -> None:
    parameters = {
        parameter["name"]: parameter["schema"]
        for parameter in client.get("/openapi.json").json()["paths"]["/api/v2/sentiment"]["get"][
            "parameters"
        ]
    }
    end, tags = parameters["end"], parameters["tags"]

    assert end["format"] == "date-time"  # which refuses days the calendar lacks, too
    shapes = [value for value in ACCEPTED_ENDS + REFUSED_ENDS if value != "2026-02-30T00:00:00Z"]
    assert [bool(re.search(end["pattern"], value)) for value in shapes] == [
        value in ACCEPTED_ENDS for value in shapes
    ]
    assert not any(re.search(tags["pattern"], value) for value in INVALID_TAGS)
    assert re.search(tags["pattern"], "tech,markets")
    assert parameters["hours"]["maximum"] == 2160


def test_trends_are_hourly_buckets(articles: Client) -> None:
    response = articles.get("/api/v2/trends", params={"hours": 3})

    assert response.status_code == 200
    points = response.json()["points"]
    assert [p["hour"] for p in points] == ["2026-11-20T14:00:00Z", "2026-11-20T15:00:00Z"]
    assert sum(p["count"] for p in points) == 3


def test_trends_for_one_tag(articles: Client) -> None:
    body = articles.get("/api/v2/trends", params={"hours": 48, "tag": "markets"}).json()

    assert body["tag"] == "markets"
    assert sum(p["count"] for p in body["points"]) == 2


def test_articles_newest_first_with_limit(articles: Client) -> None:
    body = articles.get("/api/v2/articles", params={"limit": 2}).json()

    assert body["count"] == 2
    assert [a["title"] for a in body["articles"]] == ["tech story 10", "tech story 50"]


def test_articles_filtered_by_sentiment(articles: Client) -> None:
    body = articles.get("/api/v2/articles", params={"sentiment": "positive"}).json()

    assert {a["sentiment"] for a in body["articles"]} == {"positive"}
    assert body["count"] == 3


@pytest.mark.parametrize("sentiment", ["angry", "null", ""])
def test_articles_with_a_sentiment_the_document_does_not_list_is_422(
    client: Client, sentiment: str
) -> None:
    assert client.get("/api/v2/articles", params={"sentiment": sentiment}).status_code == 422


@pytest.mark.parametrize("tag", ["", "bad tag", "x" * 51])
def test_trends_for_an_invalid_tag_is_422(client: Client, tag: str) -> None:
    response = client.get("/api/v2/trends", params={"tag": tag})

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "tag"]


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


def test_metrics_count_the_newest_items_and_say_when_the_window_held_more(
    articles: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(items, "MAX_ITEMS", 2)

    body = articles.get("/api/v2/metrics", params={"hours": 48}).json()

    assert body["partial"] is True
    assert body["counts"]["total"] == 2
    assert body["top_tags"] == {"tech": 2}  # the items 10 and 50 minutes old, not the oldest


def test_metrics_within_the_bound_are_not_partial(articles: Client) -> None:
    assert articles.get("/api/v2/metrics", params={"hours": 48}).json()["partial"] is False


def test_trends_are_partial_when_the_window_held_more(
    articles: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(items, "MAX_ITEMS", 1)

    body = articles.get("/api/v2/trends", params={"hours": 48}).json()

    assert body["partial"] is True
    assert body["points"] == [{"hour": "2026-11-20T15:00:00Z", "count": 1, "average_score": 0.8}]


def test_sentiment_shares_one_bound_between_its_tags(
    client: Client, monkeypatch: pytest.MonkeyPatch
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


def test_articles_asks_dynamodb_for_no_more_than_the_limit(articles: Client) -> None:
    with recording("query") as queries:
        body = articles.get("/api/v2/articles", params={"limit": 1}).json()

    assert body["count"] == 1
    assert [query["params"]["Limit"] for query in queries] == [1]
