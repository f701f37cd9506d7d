from pathlib import Path

import pytest

from server.settings import SettingsError, load_settings


def test_settings_defaults_without_sources() -> None:
    settings = load_settings({}, environ={})
    assert settings.transport == "stdio"
    assert settings.read_only is False
    assert settings.protected_endpoints == ("databricks-*",)


def test_settings_precedence_flag_env_file(tmp_path: Path) -> None:
    config = tmp_path / "settings.toml"
    config.write_text('read_only = true\nwait_budget_seconds = 30\nprotected_endpoints = ["prod-*"]\n')
    environ = {"DATABRICKS_SERVING_MCP_WAIT_BUDGET_SECONDS": "20"}
    settings = load_settings({"read_only": False}, environ=environ, config_file=config)
    assert settings.read_only is False
    assert settings.wait_budget_seconds == 20.0
    assert settings.protected_endpoints == ("prod-*",)


def test_settings_env_list_is_comma_separated() -> None:
    environ = {"DATABRICKS_SERVING_MCP_PROTECTED_ENDPOINTS": "prod-*, databricks-*"}
    assert load_settings({}, environ=environ).protected_endpoints == ("prod-*", "databricks-*")


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"DATABRICKS_SERVING_MCP_READ_ONLY": "maybe"}, "read_only"),
        ({"DATABRICKS_SERVING_MCP_WAIT_BUDGET_SECONDS": "9000"}, "wait_budget_seconds"),
        ({"DATABRICKS_SERVING_MCP_TRANSPORT": "websocket"}, "transport"),
        ({"DATABRICKS_SERVING_MCP_MAX_RESULT_CHARS": "ten"}, "max_result_chars"),
    ],
)
def test_settings_invalid_value_named(environ: dict[str, str], expected: str) -> None:
    with pytest.raises(SettingsError, match=expected):
        load_settings({}, environ=environ)


def test_settings_unknown_file_key_rejected(tmp_path: Path) -> None:
    config = tmp_path / "settings.toml"
    config.write_text("read_onyl = true\n")
    with pytest.raises(SettingsError, match="read_onyl"):
        load_settings({}, environ={}, config_file=config)


def test_settings_missing_file_named(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="not found"):
        load_settings({}, environ={}, config_file=tmp_path / "absent.toml")


def test_settings_http_host_must_be_loopback() -> None:
    with pytest.raises(SettingsError, match="loopback"):
        load_settings({"http_host": "0.0.0.0"}, environ={})


def test_settings_log_level_checked() -> None:
    with pytest.raises(SettingsError, match="log_level"):
        load_settings({"log_level": "LOUD"}, environ={})
