import re
from pathlib import Path

import pytest

from sentiment_pipeline import credentials
from sentiment_pipeline.credentials import MissingCredentials, credential_mode


def mode(**given: object) -> str:
    settings = {
        "access_key_id": False,
        "secret_access_key": False,
        "web_identity_token": False,
        "role_arn": "",
    }
    settings.update(given)
    return credential_mode(**settings)  # type: ignore[arg-type]


def test_access_keys_are_enough() -> None:
    assert mode(access_key_id=True, secret_access_key=True) == "keys"


def test_a_web_identity_token_needs_a_role() -> None:
    assert mode(web_identity_token=True, role_arn="arn:aws:iam::1:role/r") == "web-identity"
    with pytest.raises(MissingCredentials, match=r"given: --web-identity-token\)"):
        mode(web_identity_token=True)


def test_missing_credentials_say_what_to_pass() -> None:
    with pytest.raises(MissingCredentials) as error:
        mode(access_key_id=True)

    message = str(error.value)
    assert "given: --aws-access-key-id" in message
    assert "--aws-secret-access-key env://AWS_SECRET_ACCESS_KEY" in message
    assert "--role-arn" in message


def test_nothing_given_is_reported_as_none() -> None:
    with pytest.raises(MissingCredentials, match=r"given: none"):
        mode()


def test_the_deploy_session_outlasts_the_longest_deploy_job_and_the_role_allows_it() -> None:
    """A session shorter than the job dies mid-apply holding Terraform's lock; a session longer
    than the role's MaxSessionDuration is refused by STS. docs/deploy-role.md creates the role."""
    root = Path(__file__).resolve().parents[2]
    workflow = (root / ".github" / "workflows" / "deploy.yml").read_text()
    longest_job = max(int(m) for m in re.findall(r"timeout-minutes: (\d+)", workflow)) * 60
    page = (root / "docs" / "deploy-role.md").read_text()
    [allowed] = re.findall(r"--max-session-duration (\d+)", page)

    session = credentials.DEPLOY_SESSION_SECONDS

    assert session >= 2 * longest_job
    assert session <= int(allowed) <= 43_200  # IAM's ceiling: 12 h
