import time

import pytest

from sentiment_pipeline import credentials, smoke
from sentiment_pipeline.credentials import AwsCredentials
from sentiment_pipeline.smoke import SmokeFailed
from tests.support.moto_server import MotoServer

from .conftest import FakeClock, Reply, ScriptedServer

HEALTHY = Reply(200, '{"status":"healthy","checks":{}}')


def check(server: ScriptedServer, clock: FakeClock, budget: float = 15.0) -> smoke.Probe:
    return smoke.check_health(
        server.url + "/", budget=budget, interval=1.0, clock=clock, sleep=clock.sleep
    )


def test_healthy_on_first_answer(scripted_server: ScriptedServer, clock: FakeClock) -> None:
    scripted_server.script(HEALTHY)

    result = check(scripted_server, clock)

    assert result.status == 200
    assert scripted_server.requests == ["/health"]


def test_cold_start_errors_are_retried_within_the_budget(
    scripted_server: ScriptedServer, clock: FakeClock
) -> None:
    scripted_server.script(Reply(503, '{"message":"Service Unavailable"}'), Reply(502), HEALTHY)

    assert check(scripted_server, clock).healthy
    assert len(scripted_server.requests) == 3


def test_never_healthy_fails_with_the_last_answer(
    scripted_server: ScriptedServer, clock: FakeClock
) -> None:
    scripted_server.script(Reply(503, '{"status":"unhealthy","checks":{"table":"missing"}}'))

    with pytest.raises(SmokeFailed) as error:
        check(scripted_server, clock, budget=15.0)

    message = str(error.value)
    assert f"GET {scripted_server.url}/health was not 200" in message
    assert "within 15 s" in message
    assert 'HTTP 503: {"status":"unhealthy"' in message
    assert sum(clock.sleeps) <= 15.0


def test_200_without_healthy_status_is_not_healthy(
    scripted_server: ScriptedServer, clock: FakeClock
) -> None:
    scripted_server.script(Reply(200, "<html>ok</html>", "text/html"))

    with pytest.raises(SmokeFailed, match="HTTP 200: <html>ok</html>"):
        check(scripted_server, clock, budget=2.0)


@pytest.mark.parametrize("body", ['["healthy"]', '"healthy"', "null", '{"status": true}', "{"])
def test_a_body_that_is_not_a_healthy_json_object_is_not_healthy(body: str) -> None:
    assert not smoke.Probe(200, body).healthy


def test_a_healthy_json_object_is_healthy() -> None:
    assert smoke.Probe(200, '{"status": "healthy"}').healthy


def test_no_server_is_a_clear_failure(clock: FakeClock) -> None:
    with pytest.raises(SmokeFailed, match="no answer"):
        smoke.check_health("http://127.0.0.1:9", budget=1.0, clock=clock, sleep=clock.sleep)


def test_log_scan_finds_import_errors(moto_server: MotoServer, aws_env: None) -> None:
    moto_server.reset()
    logs = credentials.client(
        "logs", AwsCredentials("testing", "testing"), "us-east-1", moto_server.endpoint
    )
    group = "/aws/lambda/sentiment-dashboard-preprod"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    now = int(time.time() * 1000)
    logs.put_log_events(
        logGroupName=group,
        logStreamName="s",
        logEvents=[
            {"timestamp": now, "message": "START RequestId: 1"},
            {
                "timestamp": now + 1,
                "message": "[ERROR] Runtime.ImportModuleError: Unable to import module "
                "'handler': No module named 'mangum'",
            },
        ],
    )

    lines = smoke.scan_logs(logs, group, now - 60_000)

    assert lines == [
        "[ERROR] Runtime.ImportModuleError: Unable to import module 'handler': "
        "No module named 'mangum'"
    ]
    with pytest.raises(SmokeFailed, match="failing to import"):
        smoke.require_clean_logs(lines, group)


def test_log_scan_of_a_missing_group_finds_nothing(moto_server: MotoServer, aws_env: None) -> None:
    moto_server.reset()
    logs = credentials.client(
        "logs", AwsCredentials("testing", "testing"), "us-east-1", moto_server.endpoint
    )

    assert smoke.scan_logs(logs, "/aws/lambda/absent", 0) == []
    smoke.require_clean_logs([], "/aws/lambda/absent")
