"""Compact, model-facing summaries of serving endpoints."""

from pydantic import BaseModel, Field

from tools.api.models import EndpointConfig, ServingEndpoint
from tools.output import cut_text

# Max characters of a deployment state message; a failed build can report a whole traceback.
MAX_STATE_MESSAGE_CHARS = 2_000
# Max tags shown, and max characters of each tag value.
MAX_TAGS = 100
MAX_TAG_VALUE_CHARS = 500
# Max characters of a served entity name, model name or workload shown. The API documents no length limit
# for served entity names, and an update echoes whatever name the request gave.
MAX_NAME_CHARS = 500


class EntitySummary(BaseModel):
    name: str | None
    entity_name: str | None = None
    entity_version: str | None = None
    external_model: str | None = Field(None, description="provider/model of an external model entity")
    workload: str | None = Field(None, description="workload type and size, or provisioned units")
    scale_to_zero: bool | None = None
    deployment: str | None = None
    deployment_message: str | None = None


class RouteSummary(BaseModel):
    served_entity_name: str | None
    traffic_percentage: int


class ConfigSummary(BaseModel):
    config_version: int | None
    served_entities: list[EntitySummary]
    routes: list[RouteSummary]


class EndpointSummary(BaseModel):
    name: str
    id: str | None = Field(None, description="32-hex endpoint id; the permissions API needs it, not the name")
    ready: str | None
    config_update: str | None
    task: str | None = None
    endpoint_type: str | None = None
    creator: str | None = None
    config: ConfigSummary | None = None
    pending_config: ConfigSummary | None = None
    tags: dict[str, str | None] = Field(default_factory=dict, description=f"the first {MAX_TAGS} tags")
    tags_omitted: int = Field(0, description="tags left out of `tags`")
    fully_ready: bool = Field(description="ready == READY and config_update == NOT_UPDATING")


def summarise_config(config: EndpointConfig | None) -> ConfigSummary | None:
    if config is None:
        return None
    entities = []
    for entity in config.served_entities:
        workload = None
        if entity.provisioned_model_units:
            workload = f"{entity.provisioned_model_units} model units"
        elif entity.workload_type or entity.workload_size:
            workload = " ".join(x for x in (entity.workload_type, entity.workload_size) if x)
        external = None
        if entity.external_model:
            external = f"{entity.external_model.get('provider')}/{entity.external_model.get('name')}"
        entities.append(
            EntitySummary(
                name=_cut_name(entity.name),
                entity_name=_cut_name(entity.entity_name),
                entity_version=_cut_name(entity.entity_version),
                external_model=_cut_name(external),
                workload=_cut_name(workload),
                scale_to_zero=entity.scale_to_zero_enabled,
                deployment=entity.state.deployment if entity.state else None,
                deployment_message=state_message(entity.state.deployment_state_message if entity.state else None),
            )
        )
    routes = [
        RouteSummary(served_entity_name=_cut_name(r.target), traffic_percentage=r.traffic_percentage)
        for r in (config.traffic_config.routes if config.traffic_config else [])
    ]
    return ConfigSummary(config_version=config.config_version, served_entities=entities, routes=routes)


def summarise_endpoint(endpoint: ServingEndpoint) -> EndpointSummary:
    return EndpointSummary(
        name=endpoint.name,
        id=endpoint.id,
        ready=endpoint.ready,
        config_update=endpoint.config_update,
        task=endpoint.task,
        endpoint_type=endpoint.endpoint_type,
        creator=endpoint.creator,
        config=summarise_config(endpoint.config),
        pending_config=summarise_config(endpoint.pending_config),
        tags=_shown_tags(endpoint),
        tags_omitted=max(len(endpoint.tags) - MAX_TAGS, 0),
        fully_ready=endpoint.ready == "READY" and endpoint.config_update == "NOT_UPDATING",
    )


def state_message(message: str | None) -> str | None:
    """Return a deployment state message cut to MAX_STATE_MESSAGE_CHARS, or None when it is empty."""
    return cut_text(message, MAX_STATE_MESSAGE_CHARS) if message else None


def _cut_name(name: str | None) -> str | None:
    return cut_text(name, MAX_NAME_CHARS) if name else name


def _shown_tags(endpoint: ServingEndpoint) -> dict[str, str | None]:
    shown = endpoint.tags[:MAX_TAGS]
    return {tag.key: cut_text(tag.value, MAX_TAG_VALUE_CHARS) if tag.value else tag.value for tag in shown}
