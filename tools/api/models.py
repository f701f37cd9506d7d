"""Pydantic models of the serving API's wire objects.

Fields follow the REST API's snake_case names. The models ignore unknown fields
because the service adds response fields freely.
"""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

ReadyState = Literal["READY", "NOT_READY"]
ConfigUpdateState = Literal["NOT_UPDATING", "IN_PROGRESS", "UPDATE_FAILED", "UPDATE_CANCELED"]
DeploymentState = Literal[
    "DEPLOYMENT_CREATING",
    "DEPLOYMENT_RECOVERING",
    "DEPLOYMENT_READY",
    "DEPLOYMENT_FAILED",
    "DEPLOYMENT_ABORTED",
    "DEPLOYMENT_UNKNOWN",
    "DEPLOYMENT_STOPPED",
]
PermissionLevel = Literal["CAN_MANAGE", "CAN_QUERY", "CAN_VIEW"]


class WireModel(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class EndpointState(WireModel):
    ready: str | None = None
    config_update: str | None = None
    suspend: str | None = None


class EntityDeploymentState(WireModel):
    deployment: str | None = None
    deployment_state_message: str | None = None


class FoundationModel(WireModel):
    name: str | None = None
    display_name: str | None = None
    docs: str | None = None
    description: str | None = None


class ServedEntity(WireModel):
    name: str | None = None
    entity_name: str | None = None
    entity_version: str | None = None
    external_model: dict[str, Any] | None = None
    foundation_model: FoundationModel | None = None
    workload_size: str | None = None
    workload_type: str | None = None
    scale_to_zero_enabled: bool | None = None
    min_provisioned_concurrency: int | None = None
    max_provisioned_concurrency: int | None = None
    min_provisioned_throughput: int | None = None
    max_provisioned_throughput: int | None = None
    provisioned_model_units: int | None = None
    environment_vars: dict[str, str] | None = None
    state: EntityDeploymentState | None = None


class Route(WireModel):
    served_model_name: str | None = None
    served_entity_name: str | None = None
    traffic_percentage: int = 0

    @property
    def target(self) -> str | None:
        return self.served_entity_name or self.served_model_name


class TrafficConfig(WireModel):
    routes: list[Route] = Field(default_factory=list)


class EndpointConfig(WireModel):
    config_version: int | None = None
    served_entities: list[ServedEntity] = Field(default_factory=list)
    traffic_config: TrafficConfig | None = None
    start_time: int | None = None


class Tag(WireModel):
    key: str
    value: str | None = None


class ServingEndpoint(WireModel):
    """A list item or a full `ServingEndpointDetailed`; the detailed fields stay None in lists."""

    name: str
    id: str | None = None
    creator: str | None = None
    creation_timestamp: int | None = None
    last_updated_timestamp: int | None = None
    description: str | None = None
    state: EndpointState | None = None
    config: EndpointConfig | None = None
    pending_config: EndpointConfig | None = None
    permission_level: str | None = None
    route_optimized: bool | None = None
    endpoint_url: str | None = None
    tags: list[Tag] = Field(default_factory=list)
    task: str | None = None
    endpoint_type: str | None = None
    ai_gateway: dict[str, Any] | None = None
    budget_policy_id: str | None = None
    email_notifications: dict[str, Any] | None = None
    telemetry_config: dict[str, Any] | None = None

    @property
    def ready(self) -> str | None:
        return self.state.ready if self.state else None

    @property
    def config_update(self) -> str | None:
        return self.state.config_update if self.state else None

    def served_entity_names(self) -> list[str]:
        config = self.config or self.pending_config
        return [e.name for e in (config.served_entities if config else []) if e.name]


class Permission(WireModel):
    permission_level: str | None = None
    inherited: bool = False
    inherited_from_object: list[str] = Field(default_factory=list)


class AccessControlEntry(WireModel):
    """One principal of an ACL: exactly one of the three name fields is set."""

    user_name: str | None = None
    group_name: str | None = None
    service_principal_name: str | None = None
    display_name: str | None = None
    all_permissions: list[Permission] = Field(default_factory=list)


class EndpointPermissions(WireModel):
    """`ServingEndpointPermissions`: the ACL of one endpoint, keyed by its id."""

    object_id: str | None = None
    object_type: str | None = None
    access_control_list: list[AccessControlEntry] = Field(default_factory=list)


class ModelAlias(WireModel):
    alias_name: str | None = None
    version_num: int | None = None


class ModelVersionInfo(WireModel):
    """A Unity Catalog model version (`ModelVersionInfo`)."""

    model_name: str | None = None
    catalog_name: str | None = None
    schema_name: str | None = None
    version: int | None = None
    status: str | None = None
    aliases: list[ModelAlias] = Field(default_factory=list)
