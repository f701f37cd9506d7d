"""Server settings from CLI flags, environment variables and an optional TOML file.

Precedence: CLI flag, then environment variable, then the TOML file, then the default.
This is the only module that reads the environment; databricks-sdk reads its own
DATABRICKS_* variables when a real workspace is used.
"""

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal

from tools.context import DEFAULT_MAX_RESULT_CHARS, DEFAULT_WAIT_BUDGET_SECONDS

ENV_PREFIX = "DATABRICKS_SERVING_MCP_"
Transport = Literal["stdio", "http"]


class SettingsError(ValueError):
    """A setting has an invalid value; the message names the setting and the fix."""


@dataclass(frozen=True)
class Settings:
    # Workspace: a databricks-sdk profile or host, or the embedded emulator.
    profile: str | None = None
    host: str | None = None
    sandbox: bool = False
    sandbox_scenario: str | None = None
    sandbox_time_scale: float = 60.0
    # Transport.
    transport: Transport = "stdio"
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    # Policy.
    read_only: bool = False
    protected_endpoints: tuple[str, ...] = ("databricks-*",)
    # Cost guard: see tools.policy.PolicySettings.
    allow_gpu_workloads: bool = False
    max_provisioned_model_units: int = 0
    max_provisioned_throughput: int = 0
    # Output and waiting.
    max_result_chars: int = DEFAULT_MAX_RESULT_CHARS
    wait_budget_seconds: float = DEFAULT_WAIT_BUDGET_SECONDS
    audit_log: str | None = None
    log_level: str = "INFO"
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def with_overrides(self, **changes: Any) -> "Settings":
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


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
    if settings.max_result_chars < 2000:
        raise SettingsError(f"Invalid max_result_chars={settings.max_result_chars}: use at least 2000.")
    if not 1 <= settings.wait_budget_seconds <= 600:
        raise SettingsError(f"Invalid wait_budget_seconds={settings.wait_budget_seconds}: use 1 to 600 seconds.")
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
