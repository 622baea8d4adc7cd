import base64
import json

import boto3
import pytest
from moto import mock_aws

from sentiment_pipeline import credentials, ecr
from sentiment_pipeline.credentials import AwsCredentials, CredentialsRejected
from sentiment_pipeline.retry import RetryPolicy
from tests.support.moto_server import MotoServer

from .conftest import FakeClock, Reply, ScriptedServer

DIGEST = "sha256:" + "0123456789abcdef" * 4
KEYS = AwsCredentials("testing", "testing", "testing")


def policy(clock: FakeClock) -> RetryPolicy:
    return RetryPolicy(max_attempts=4, clock=clock)


def test_registry_login_comes_from_get_authorization_token(
    moto_server: MotoServer, aws_env: None
) -> None:
    moto_server.reset()
    client = credentials.client("ecr", KEYS, "us-east-1", moto_server.endpoint)

    auth = ecr.registry_auth(client, RetryPolicy())

    assert auth.address == "123456789012.dkr.ecr.us-east-1.amazonaws.com"
    assert auth.username == "AWS"
    assert auth.password
    assert auth.password not in repr(auth)
    assert auth.repository_url("sentiment-dashboard-preprod") == (
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/sentiment-dashboard-preprod"
    )


def test_web_identity_token_is_exchanged_for_credentials_that_log_in(
    moto_server: MotoServer, aws_env: None
) -> None:
    moto_server.reset()
    sts = credentials.unsigned_sts("us-east-1", moto_server.endpoint)

    issued = credentials.assume_role_with_web_identity(
        sts, "arn:aws:iam::123456789012:role/deploy", "oidc-token", RetryPolicy()
    )
    auth = ecr.registry_auth(
        credentials.client("ecr", issued, "us-east-1", moto_server.endpoint), RetryPolicy()
    )

    assert issued.session_token
    assert issued.secret_access_key not in repr(issued)
    assert auth.username == "AWS"


def test_throttled_token_requests_are_retried(
    scripted_server: ScriptedServer, clock: FakeClock
) -> None:
    token = base64.b64encode(b"AWS:s3cret").decode()
    granted = {
        "authorizationData": [
            {
                "authorizationToken": token,
                "proxyEndpoint": "https://210987654321.dkr.ecr.eu-west-1.amazonaws.com",
                "expiresAt": 1.9e9,
            }
        ]
    }
    scripted_server.script(
        Reply(400, json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"})),
        Reply(503, "{}"),
        Reply(200, json.dumps(granted)),
    )
    client = credentials.client("ecr", KEYS, "eu-west-1", scripted_server.url)

    auth = ecr.registry_auth(client, policy(clock))

    assert (auth.address, auth.username, auth.password) == (
        "210987654321.dkr.ecr.eu-west-1.amazonaws.com",
        "AWS",
        "s3cret",
    )
    assert len(scripted_server.requests) == 3


def test_rejected_credentials_fail_at_once_with_a_remedy(
    scripted_server: ScriptedServer, clock: FakeClock
) -> None:
    scripted_server.script(
        Reply(
            400,
            json.dumps(
                {
                    "__type": "UnrecognizedClientException",
                    "message": "The security token included in the request is invalid.",
                }
            ),
        )
    )
    client = credentials.client("ecr", KEYS, "us-east-1", scripted_server.url)

    with pytest.raises(CredentialsRejected, match=r"ECR refused the AWS credentials.*allow ecr:"):
        ecr.registry_auth(client, policy(clock))

    assert len(scripted_server.requests) == 1


def test_digest_reference_pins_the_repository_to_the_pushed_digest() -> None:
    repo = "123456789012.dkr.ecr.us-east-1.amazonaws.com/sentiment-dashboard-preprod"

    assert ecr.digest_reference(f"{repo}:abc1234@{DIGEST}\n", repo) == f"{repo}@{DIGEST}"


def test_a_push_result_without_digest_is_an_error() -> None:
    with pytest.raises(ValueError, match="no @sha256"):
        ecr.digest_reference("repo:latest", "repo")


def test_one_publish_pushes_the_commit_and_latest() -> None:
    assert ecr.image_tags("r", "0f3a9c1") == ("r:0f3a9c1", "r:latest")
    with pytest.raises(ValueError, match="not a hex commit"):
        ecr.image_tags("r", "main")


MANIFEST = json.dumps(
    {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {
            "mediaType": "application/vnd.docker.container.image.v1+json",
            "size": 2,
            "digest": "sha256:" + "c" * 64,
        },
        "layers": [],
    }
)


def pushed(client, repository: str, digest: str, tag: str) -> str:
    client.put_image(
        repositoryName=repository,
        imageManifest=MANIFEST.replace("c" * 64, digest[7:]),
        imageTag=tag,
        imageDigest=digest,
    )
    uri = client.describe_repositories(repositoryNames=[repository])["repositories"][0]
    return f"{uri['repositoryUri']}@{digest}"


@pytest.fixture
def ecr_client(moto_server: MotoServer, aws_env: None):
    moto_server.reset()
    client = credentials.client("ecr", KEYS, "us-east-1", moto_server.endpoint)
    client.create_repository(repositoryName="sentiment-dashboard-preprod")
    return client


def test_nothing_is_last_good_before_a_deploy_is_marked(ecr_client) -> None:
    pushed(ecr_client, "sentiment-dashboard-preprod", DIGEST, "abc1234")

    assert ecr.last_good(ecr_client, "sentiment-dashboard-preprod", "preprod") is None


def test_marking_moves_the_deployed_tag_to_the_new_image(ecr_client) -> None:
    first = pushed(ecr_client, "sentiment-dashboard-preprod", DIGEST, "abc1234")
    second = pushed(ecr_client, "sentiment-dashboard-preprod", "sha256:" + "f" * 64, "def5678")

    ecr.mark_good(ecr_client, "sentiment-dashboard-preprod", "preprod", first)
    assert ecr.last_good(ecr_client, "sentiment-dashboard-preprod", "preprod") == first
    ecr.mark_good(ecr_client, "sentiment-dashboard-preprod", "preprod", second)
    ecr.mark_good(ecr_client, "sentiment-dashboard-preprod", "preprod", second)

    assert ecr.last_good(ecr_client, "sentiment-dashboard-preprod", "preprod") == second
    assert ecr.last_good(ecr_client, "sentiment-dashboard-preprod", "prod") is None
    tags = {
        d["imageDigest"]: d.get("imageTags", [])
        for d in ecr_client.describe_images(repositoryName="sentiment-dashboard-preprod")[
            "imageDetails"
        ]
    }
    assert tags == {
        DIGEST: ["abc1234", "passed-preprod-0123456789abcdef"],
        "sha256:" + "f" * 64: ["def5678", "deployed-preprod", "passed-preprod-ffffffffffffffff"],
    }


def test_a_pass_stays_recorded_after_the_deployed_tag_moves_on(ecr_client) -> None:
    repository = "sentiment-dashboard-preprod"
    first = pushed(ecr_client, repository, DIGEST, "abc1234")
    second = pushed(ecr_client, repository, "sha256:" + "f" * 64, "def5678")
    never = pushed(ecr_client, repository, "sha256:" + "e" * 64, "0badbad")

    ecr.mark_good(ecr_client, repository, "preprod", first)
    ecr.mark_good(ecr_client, repository, "preprod", second)

    assert ecr.passed(ecr_client, repository, "preprod", ecr.digest_of(first))
    assert ecr.passed(ecr_client, repository, "preprod", ecr.digest_of(second))
    assert not ecr.passed(ecr_client, repository, "preprod", ecr.digest_of(never))
    assert not ecr.passed(ecr_client, repository, "prod", ecr.digest_of(first))
    assert not ecr.passed(ecr_client, repository, "preprod", "sha256:" + "9" * 64)


def test_marking_an_image_that_is_not_in_ecr_is_an_error(ecr_client) -> None:
    with pytest.raises(LookupError, match="is not in ECR repository"):
        ecr.mark_good(ecr_client, "sentiment-dashboard-preprod", "preprod", f"repo@{DIGEST}")


def test_marking_needs_a_digest_reference(ecr_client) -> None:
    with pytest.raises(ValueError, match="not pinned by digest"):
        ecr.mark_good(ecr_client, "sentiment-dashboard-preprod", "preprod", "repo:latest")


def test_moto_drops_an_image_whose_only_tag_moves_where_ecr_keeps_it_untagged(
    aws_env: None,
) -> None:
    """A difference the rehearsal lives with: it tags every build with one commit, so an older
    build that was never marked vanishes from moto's ECR (tests/rehearsal picks a live one)."""
    with mock_aws():
        registry = boto3.client("ecr", region_name="us-east-1")
        registry.create_repository(repositoryName="repo")
        first, second = (_manifest(size) for size in (1, 2))
        for body in (first, second):
            registry.put_image(repositoryName="repo", imageManifest=body, imageTag="same-commit")

        listed = registry.describe_images(repositoryName="repo")["imageDetails"]

    assert len(listed) == 1  # on ECR: 2, the first untagged until the lifecycle expires it


def _manifest(config_size: int) -> str:
    config = {
        "mediaType": "application/vnd.docker.container.image.v1+json",
        "size": config_size,
        "digest": "sha256:" + "a" * 64,
    }
    media_type = "application/vnd.docker.distribution.manifest.v2+json"
    return json.dumps({"schemaVersion": 2, "mediaType": media_type, "config": config, "layers": []})
