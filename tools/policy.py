"""Safety policy that every mutating tool passes through before it sends a request."""

import fnmatch
from dataclasses import dataclass, field

from tools.errors import failure


@dataclass(frozen=True)
class PolicySettings:
    read_only: bool = False
    # Glob patterns of endpoint names that no tool may change or delete.
    protected_endpoints: tuple[str, ...] = ("databricks-*",)


@dataclass
class Policy:
    settings: PolicySettings = field(default_factory=PolicySettings)

    def check_mutation(self, tool: str, endpoint_name: str) -> None:
        """Raise a tool failure when `tool` may not change `endpoint_name`."""
        if self.settings.read_only:
            raise failure(
                "READ_ONLY_MODE",
                f"{tool} changes the workspace, and this server runs in read-only mode.",
                next_step="Restart the server without --read-only to allow changes.",
            )
        for pattern in self.settings.protected_endpoints:
            if fnmatch.fnmatchcase(endpoint_name, pattern):
                raise failure(
                    "PROTECTED_ENDPOINT",
                    f"Endpoint {endpoint_name!r} matches the protected pattern {pattern!r}; {tool} may not change it.",
                    next_step="Choose another endpoint, or remove the pattern from the server's protected list.",
                )
