"""Safety policy that every mutating tool passes through before it sends a request.

Two kinds of checks: who may change what (read-only mode, protected endpoint patterns) and a
cost guard on the compute a served entity requests (GPU workload types, provisioned
throughput). Every check runs locally, so a rejected call sends nothing.
"""

import fnmatch
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tools.errors import ToolFailure, failure
from tools.rules import GPU_WORKLOAD_TYPES


@dataclass(frozen=True)
class PolicySettings:
    read_only: bool = False
    # Glob patterns of endpoint names that no tool may change or delete.
    protected_endpoints: tuple[str, ...] = ("databricks-*",)
    # Cost guard. GPU workload types are rejected unless allowed.
    allow_gpu_workloads: bool = False
    # Largest provisioned_model_units one served entity may reserve; 0 rejects any.
    max_provisioned_model_units: int = 0
    # Largest max_provisioned_throughput (tokens per second) one served entity may reserve; 0 rejects any.
    max_provisioned_throughput: int = 0


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
        # Case-insensitive, so that a name differing only in case from a protected one cannot slip
        # through: whether the service treats endpoint names case-sensitively is not confirmed.
        for pattern in self.settings.protected_endpoints:
            if fnmatch.fnmatchcase(endpoint_name.lower(), pattern.lower()):
                raise failure(
                    "PROTECTED_ENDPOINT",
                    f"Endpoint {endpoint_name!r} matches the protected pattern {pattern!r}; {tool} may not change it.",
                    next_step="Choose another endpoint, or remove the pattern from the server's protected list.",
                )

    def check_compute(self, tool: str, entities: Iterable[Mapping[str, Any]]) -> None:
        """Raise a tool failure when a served entity requests compute above the cost guard's limits."""
        for entity in entities:
            label = str(entity.get("name") or entity.get("entity_name") or "served entity")
            workload_type = str(entity.get("workload_type") or "")
            if workload_type in GPU_WORKLOAD_TYPES and not self.settings.allow_gpu_workloads:
                raise _cost_failure(
                    tool,
                    f"{label} asks for the GPU workload type {workload_type}, and GPU workloads are disabled.",
                    "Use a CPU workload type, or start the server with --allow-gpu-workloads.",
                )
            limits = {
                "provisioned_model_units": self.settings.max_provisioned_model_units,
                "max_provisioned_throughput": self.settings.max_provisioned_throughput,
            }
            for key, limit in limits.items():
                self._check_limit(tool, label, entity, key, limit)

    def describe_checks(self) -> list[str]:
        """Describe the checks this policy applies, for dry-run results."""
        gpu = "allowed" if self.settings.allow_gpu_workloads else "rejected"
        return [
            f"read-only mode: {'on' if self.settings.read_only else 'off'}",
            f"protected endpoint patterns: {list(self.settings.protected_endpoints)}",
            f"GPU workload types: {gpu}",
            f"provisioned_model_units limit: {self.settings.max_provisioned_model_units}",
            f"max_provisioned_throughput limit: {self.settings.max_provisioned_throughput}",
        ]

    @staticmethod
    def _check_limit(tool: str, label: str, entity: Mapping[str, Any], key: str, limit: int) -> None:
        value = entity.get(key)
        if isinstance(value, int) and value > limit:
            raise _cost_failure(
                tool,
                f"{label} asks for {key}={value}, above the server's limit of {limit}.",
                f"Lower {key} to at most {limit}, or raise the limit in the server's policy settings.",
            )


def _cost_failure(tool: str, message: str, next_step: str) -> ToolFailure:
    return failure("COST_GUARD", f"{tool} rejected: {message}", next_step=next_step)
