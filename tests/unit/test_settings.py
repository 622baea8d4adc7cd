from dashboard.settings import Settings


def test_settings_from_an_empty_environment_never_raise() -> None:
    settings = Settings.from_environ({})

    assert settings.database_table is None
    assert settings.environment == "unknown"
    assert not settings.auth_configured
    assert not settings.open_without_key


def test_settings_read_every_variable() -> None:
    settings = Settings.from_environ(
        {
            "DATABASE_TABLE": "items",
            "USERS_TABLE": "users",
            "TIMESERIES_TABLE": "ts",
            "TICKER_CACHE_BUCKET": "bucket",
            "ENVIRONMENT": "Local",
            "API_KEY": "k",
            "DASHBOARD_API_KEY_SECRET_ARN": "arn:x",
            "CORS_ORIGINS": "https://a.example/, ,https://b",
        }
    )

    assert settings == Settings(
        database_table="items",
        users_table="users",
        timeseries_table="ts",
        ticker_cache_bucket="bucket",
        environment="local",
        api_key="k",
        api_key_secret_arn="arn:x",
        cors_origins=("https://a.example", "https://b"),
    )
    assert settings.open_without_key


def test_blank_values_count_as_missing_and_the_key_is_not_in_repr() -> None:
    settings = Settings.from_environ({"DATABASE_TABLE": "  ", "API_KEY": "secret-value"})

    assert settings.database_table is None
    assert "secret-value" not in repr(settings)
