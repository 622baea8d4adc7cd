import pytest

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
