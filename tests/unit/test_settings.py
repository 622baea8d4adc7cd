from dashboard.settings import Settings


def test_settings_from_an_empty_environment_never_raise() -> None:
    settings = Settings.from_environ({})

    assert settings.database_table is None
    assert settings.users_table is None
    assert settings.environment == "unknown"
    assert settings.cors_origins == ()


def test_settings_read_every_variable() -> None:
    settings = Settings.from_environ(
        {
            "DATABASE_TABLE": "items",
            "USERS_TABLE": "users",
            "TIMESERIES_TABLE": "ts",
            "TICKER_CACHE_BUCKET": "bucket",
            "ENVIRONMENT": "Local",
            "CORS_ORIGINS": "https://a.example/, ,https://b",
            "AWS_LAMBDA_FUNCTION_VERSION": "7",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "snap-start",
        }
    )

    assert settings == Settings(
        database_table="items",
        users_table="users",
        timeseries_table="ts",
        ticker_cache_bucket="bucket",
        environment="local",
        cors_origins=("https://a.example", "https://b"),
        function_version="7",
        initialization_type="snap-start",
    )


def test_blank_values_count_as_missing() -> None:
    settings = Settings.from_environ({"DATABASE_TABLE": "  ", "USERS_TABLE": ""})

    assert settings.database_table is None
    assert settings.users_table is None


def test_the_shared_key_settings_are_gone() -> None:
    settings = Settings.from_environ({"API_KEY": "k", "DASHBOARD_API_KEY_SECRET_ARN": "arn:x"})

    assert settings == Settings()
