from datetime import timedelta

import pytest
from powerwatch_api.settings import Settings, SettingsError, is_loopback_host


def test_defaults_are_local_loopback_without_auth() -> None:
    settings = Settings.from_env({})
    assert settings.server.host == "127.0.0.1"
    assert not settings.store.uses_kusto
    assert settings.auth.mode == "none"
    assert settings.server.cors_origins == ()


def test_every_problem_is_reported_at_once_with_the_variable_name() -> None:
    with pytest.raises(SettingsError) as info:
        Settings.from_env(
            {
                "POWERWATCH_API_PORT": "eighty",
                "POWERWATCH_API_AUTH": "entra",
                "POWERWATCH_KUSTO_CLUSTER_URL": "https://x.westeurope.kusto.windows.net",
            }
        )
    text = str(info.value)
    for name in (
        "POWERWATCH_API_PORT",
        "POWERWATCH_ENTRA_TENANT_ID",
        "POWERWATCH_ENTRA_AUDIENCE",
        "POWERWATCH_KUSTO_DATABASE",
    ):
        assert name in text
    assert len(info.value.problems) == 4


def test_unauthenticated_api_must_stay_on_loopback() -> None:
    with pytest.raises(SettingsError, match="loopback-only"):
        Settings.from_env({"POWERWATCH_API_HOST": "0.0.0.0"})
    settings = Settings.from_env(
        {
            "POWERWATCH_API_HOST": "0.0.0.0",
            "POWERWATCH_API_AUTH": "api-key",
            "POWERWATCH_API_KEY": "k" * 32,
        }
    )
    assert settings.auth.mode == "api-key"


def test_anonymous_kusto_only_on_loopback() -> None:
    with pytest.raises(SettingsError, match="loopback"):
        Settings.from_env(
            {
                "POWERWATCH_KUSTO_CLUSTER_URL": "http://kusto.example.com",
                "POWERWATCH_KUSTO_DATABASE": "db",
                "POWERWATCH_KUSTO_AUTH": "none",
            }
        )
    settings = Settings.from_env(
        {
            "POWERWATCH_KUSTO_CLUSTER_URL": "http://127.0.0.1:9999/",
            "POWERWATCH_KUSTO_DATABASE": "db",
            "POWERWATCH_KUSTO_AUTH": "none",
        }
    )
    assert settings.store.uses_kusto
    assert settings.store.cluster_url == "http://127.0.0.1:9999"


def test_entra_defaults_derive_from_the_tenant() -> None:
    settings = Settings.from_env(
        {
            "POWERWATCH_API_AUTH": "entra",
            "POWERWATCH_ENTRA_TENANT_ID": "contoso.onmicrosoft.com",
            "POWERWATCH_ENTRA_AUDIENCE": "api://powerwatch",
        }
    )
    assert settings.auth.issuer == "https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0"
    assert settings.auth.jwks_url.endswith("/contoso.onmicrosoft.com/discovery/v2.0/keys")
    assert settings.auth.read_role == "Events.Read"


def test_cors_refuses_wildcards_and_limits_are_bounded() -> None:
    with pytest.raises(SettingsError, match="no wildcard"):
        Settings.from_env({"POWERWATCH_API_CORS_ORIGINS": "*"})
    with pytest.raises(SettingsError, match="POWERWATCH_API_MAX_LIMIT"):
        Settings.from_env({"POWERWATCH_API_MAX_LIMIT": "0"})
    settings = Settings.from_env(
        {
            "POWERWATCH_API_CORS_ORIGINS": "https://a.example, https://b.example:8443",
            "POWERWATCH_DEVICE_SILENT_AFTER_S": "30",
        }
    )
    assert settings.server.cors_origins == ("https://a.example", "https://b.example:8443")
    assert settings.limits.silent_after == timedelta(seconds=30)


def test_api_key_must_be_long() -> None:
    with pytest.raises(SettingsError, match="32 characters"):
        Settings.from_env({"POWERWATCH_API_AUTH": "api-key", "POWERWATCH_API_KEY": "short"})


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", True),
        ("127.8.9.1", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("10.0.0.1", False),
        ("api.example.com", False),
    ],
)
def test_loopback_detection(host: str, expected: bool) -> None:
    assert is_loopback_host(host) is expected


def test_process_tuning_is_off_by_default_and_checked() -> None:
    server = Settings.from_env({}).server
    assert (server.gil_switch_interval_s, server.gc_freeze) == (0.0, False)
    tuned = Settings.from_env(
        {"POWERWATCH_API_GIL_SWITCH_INTERVAL_S": "0.0002", "POWERWATCH_API_GC_FREEZE": "1"}
    ).server
    assert (tuned.gil_switch_interval_s, tuned.gc_freeze) == (0.0002, True)
    with pytest.raises(SettingsError, match="POWERWATCH_API_GIL_SWITCH_INTERVAL_S"):
        Settings.from_env({"POWERWATCH_API_GIL_SWITCH_INTERVAL_S": "1"})
    with pytest.raises(SettingsError, match="POWERWATCH_API_GC_FREEZE"):
        Settings.from_env({"POWERWATCH_API_GC_FREEZE": "yes"})


def test_the_kusto_results_cache_age_is_read_and_checked() -> None:
    assert Settings.from_env({}).store.kusto_results_cache_max_age_s == 0
    name = "POWERWATCH_KUSTO_RESULTS_CACHE_MAX_AGE_S"
    assert Settings.from_env({name: "300"}).store.kusto_results_cache_max_age_s == 300
    for bad, why in (("5m", "is not a number of seconds"), ("-1", "is outside 0..86400")):
        with pytest.raises(SettingsError, match=f"{name}.*{why}"):
            Settings.from_env({name: bad})
