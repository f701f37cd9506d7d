"""Server settings from CLI flags, environment variables and an optional TOML file.

Precedence: CLI flag, then environment variable, then the TOML file, then the default.
This is the only module that reads the environment; databricks-sdk reads its own
DATABRICKS_* variables when a real workspace is used.
"""

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

from tools.context import DEFAULT_MAX_RESULT_CHARS, DEFAULT_WAIT_BUDGET_SECONDS

ENV_PREFIX = "DATABRICKS_SERVING_MCP_"
Transport = Literal["stdio", "http"]
LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")


class SettingsError(ValueError):
    """A setting has an invalid value; the message names the setting and the fix."""


def _setting(default: Any, help: str) -> Any:
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class Settings:
    """Every server setting; each field's `help` is also its CLI help text."""

    # Workspace: a databricks-sdk profile or host, or the embedded emulator.
    profile: str | None = _setting(None, "databricks-sdk profile in ~/.databrickscfg")
    host: str | None = _setting(None, "workspace URL, for example https://<workspace>.cloud.databricks.com")
    sandbox: bool = _setting(False, "serve against the embedded emulator instead of a workspace")
    sandbox_scenario: str | None = _setting(None, "emulator scenario file (YAML or JSON), with --sandbox")
    sandbox_time_scale: float = _setting(60.0, "emulator seconds per real second, with --sandbox")
    # Transport.
    transport: Transport = _setting("stdio", "stdio, or http for streamable HTTP at http://HTTP_HOST:HTTP_PORT/mcp")
    http_host: str = _setting("127.0.0.1", "loopback address the HTTP transport listens on")
    http_port: int = _setting(8000, "port of the HTTP transport")
    # Policy.
    read_only: bool = _setting(False, "reject every tool call that would change the workspace")
    protected_endpoints: tuple[str, ...] = _setting(
        ("databricks-*",), "comma-separated glob patterns of endpoint names that no tool may change"
    )
    allow_gpu_workloads: bool = _setting(False, "allow GPU workload types in create and update")
    max_provisioned_model_units: int = _setting(0, "maximum provisioned_model_units per served entity; 0 rejects any")
    max_provisioned_throughput: int = _setting(
        0, "maximum max_provisioned_throughput (tokens/s) per served entity; 0 rejects any"
    )
    # Output and waiting.
    max_result_chars: int = _setting(DEFAULT_MAX_RESULT_CHARS, "maximum characters in one tool result")
    wait_budget_seconds: float = _setting(
        DEFAULT_WAIT_BUDGET_SECONDS,
        "seconds one wait_until_ready call may poll before it returns IN_PROGRESS; any tool call ends 2 s after it",
    )
    query_timeout_seconds: float = _setting(30.0, "default client-side timeout of query_endpoint, in seconds")
    audit_log: str | None = _setting(None, "JSON Lines file that records every mutating tool call")
    log_level: str = _setting("INFO", "DEBUG, INFO, WARNING or ERROR; logs go to stderr")


def load_settings(
    cli: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    config_file: str | Path | None = None,
) -> Settings:
    """Merge the three sources into one Settings object."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    path = config_file or environ.get(f"{ENV_PREFIX}CONFIG")
    if path:
        values.update(_read_toml(Path(path)))
    for f in fields(Settings):
        raw = environ.get(f"{ENV_PREFIX}{f.name.upper()}")
        if raw is not None:
            values[f.name] = raw
    values.update({k: v for k, v in (cli or {}).items() if v is not None})
    return _build(values)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise SettingsError(f"Config file {str(path)!r} not found.") from exc
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"Config file {str(path)!r} is not valid TOML: {exc}") from exc
    return dict(data.get("databricks-serving-mcp", data))


def _build(values: dict[str, Any]) -> Settings:
    known = {f.name: f for f in fields(Settings)}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise SettingsError(f"Unknown setting(s) {unknown}; valid settings are {sorted(known)}.")
    converted = {name: _convert(name, value) for name, value in values.items()}
    settings = Settings(**converted)
    if settings.transport not in ("stdio", "http"):
        raise SettingsError(f"Invalid transport {settings.transport!r}: use 'stdio' or 'http'.")
    if settings.http_host not in LOOPBACK_HOSTS:
        raise SettingsError(
            f"Invalid http_host={settings.http_host!r}: the HTTP transport has no authentication, so it listens "
            f"only on a loopback address ({', '.join(LOOPBACK_HOSTS)})."
        )
    if settings.max_result_chars < 2000:
        raise SettingsError(f"Invalid max_result_chars={settings.max_result_chars}: use at least 2000.")
    if not 1 <= settings.wait_budget_seconds <= 600:
        raise SettingsError(f"Invalid wait_budget_seconds={settings.wait_budget_seconds}: use 1 to 600 seconds.")
    if not 1 <= settings.query_timeout_seconds <= 600:
        raise SettingsError(f"Invalid query_timeout_seconds={settings.query_timeout_seconds}: use 1 to 600 seconds.")
    if settings.log_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise SettingsError(f"Invalid log_level={settings.log_level!r}: use DEBUG, INFO, WARNING or ERROR.")
    return settings


def _convert(name: str, value: Any) -> Any:
    default = getattr(Settings(), name)
    try:
        if isinstance(default, bool):
            return _to_bool(value)
        if isinstance(default, int):
            return int(value)
        if isinstance(default, float):
            return float(value)
        if isinstance(default, tuple):
            items = value.split(",") if isinstance(value, str) else list(value)
            return tuple(item.strip() for item in items if item.strip())
    except (TypeError, ValueError) as exc:
        raise SettingsError(f"Invalid value {value!r} for setting {name!r}: {exc}") from exc
    return value


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"expected true or false, got {value!r}")
