"""Credentials for the REST client: a fixed token, or databricks-sdk unified auth.

databricks-sdk is imported only when a real workspace is configured, so the sandbox and
the tests start without paying for that import.
"""

import logging
import threading
from collections.abc import Callable
from typing import Any, Protocol
from urllib.parse import urlsplit

import anyio.to_thread

from tools.api.errors import ConfigurationError

logger = logging.getLogger(__name__)


class AuthProvider(Protocol):
    """The workspace host and the auth headers for one request.

    Both are resolved on first use, so a server with broken credentials still starts
    and reports the problem from the first tool call.
    """

    async def host(self) -> str: ...

    async def headers(self) -> dict[str, str]: ...


class StaticTokenAuth:
    """A fixed host and bearer token, as used for the sandbox emulator."""

    def __init__(self, host: str, token: str) -> None:
        self._host = check_workspace_host(host)
        self._token = token

    async def host(self) -> str:
        return self._host

    async def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}"}

    def __repr__(self) -> str:
        return f"StaticTokenAuth(host={self._host!r}, token=<redacted>)"


class SdkConfigAuth:
    """databricks-sdk `Config`: profiles, environment variables, OAuth, CLI login.

    The Config is built on first use in a worker thread, because building it may read
    files, call the host metadata route, or refresh an OAuth token.
    """

    def __init__(self, *, profile: str | None = None, host: str | None = None) -> None:
        self._profile = profile
        self._host = host
        self._config: Any = None
        self._lock = threading.Lock()

    async def headers(self) -> dict[str, str]:
        result: dict[str, str] = await anyio.to_thread.run_sync(self._authenticate)
        return result

    async def host(self) -> str:
        config = await anyio.to_thread.run_sync(self._load_config)
        return str(config.host).rstrip("/")

    def _authenticate(self) -> dict[str, str]:
        config = self._load_config()
        try:
            headers: dict[str, str] = config.authenticate()
        except Exception as exc:
            raise ConfigurationError(f"Databricks authentication failed: {exc}") from exc
        return headers

    def _load_config(self) -> Any:
        with self._lock:
            if self._config is None:
                self._config = build_sdk_config(self._profile, self._host)
            return self._config


def build_sdk_config(profile: str | None, host: str | None) -> Any:
    """Build a databricks-sdk Config, turning its errors into one that lists the profiles."""
    from databricks.sdk.core import Config

    kwargs: dict[str, Any] = {}
    if profile:
        kwargs["profile"] = profile
    if host:
        kwargs["host"] = check_workspace_host(host)
    try:
        config = Config(**kwargs)
    except Exception as exc:
        profiles = list_config_profiles()
        hint = (
            f" Profiles in the config file: {', '.join(profiles)}. Choose one with --profile NAME "
            "or DATABRICKS_CONFIG_PROFILE."
            if profiles
            else " Run 'databricks auth login' or set DATABRICKS_HOST and DATABRICKS_TOKEN."
        )
        raise ConfigurationError(f"Cannot configure Databricks credentials: {exc}.{hint}") from exc
    check_workspace_host(str(config.host))
    return config


def list_config_profiles(read: Callable[[], list[str]] | None = None) -> list[str]:
    """Return the profile names in ~/.databrickscfg (or DATABRICKS_CONFIG_FILE)."""
    import configparser
    import os

    path = os.path.expanduser(os.environ.get("DATABRICKS_CONFIG_FILE", "~/.databrickscfg"))
    parser = configparser.ConfigParser()
    try:
        parser.read(path)
    except configparser.Error:
        logger.warning("Could not parse Databricks config file %s", path)
        return []
    names = [s for s in parser.sections() if s != "__settings__"]
    if parser.defaults():
        names.insert(0, "DEFAULT")
    return names


def check_workspace_host(host: str) -> str:
    """Reject a host that carries a path, such as an endpoint's invocation URL."""
    parts = urlsplit(host if "://" in host else f"https://{host}")
    if parts.path not in ("", "/") or parts.query:
        root = f"{parts.scheme}://{parts.netloc}"
        raise ConfigurationError(
            f"Workspace host {host!r} contains a path; the host must be the workspace root, for example {root!r}."
        )
    return host.rstrip("/")
