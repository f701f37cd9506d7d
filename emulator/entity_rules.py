"""Validation and normalisation of one served entity, as the serving API applies them.

An entity is one of three kinds: an external model (`external_model`), a Foundation Model under
`system.ai.*` (pay-per-token or provisioned throughput), or a custom model from the registry.
"""

from dataclasses import dataclass
from typing import Any, Literal

from emulator.config_rules import (
    ENTITY_NAME_PATTERN,
    coerce_bool,
    coerce_int,
    default_entity_name,
    parse_decimal,
    reject_unexpected_fields,
    require_object,
    require_string,
    short_repr,
)
from emulator.errors import bad_request, not_found
from emulator.external_models import normalise_external_model
from emulator.state import Workspace

EntityKind = Literal["external", "foundation", "custom"]

FOUNDATION_PREFIX = "system.ai."
WORKLOAD_SIZES = ("Small", "Medium", "Large")
WORKLOAD_TYPES = (
    "CPU",
    "CPU_MEDIUM",
    "CPU_LARGE",
    "GPU_SMALL",
    "GPU_MEDIUM",
    "GPU_LARGE",
    "GPU_XLARGE",
    "GPU_XLARGE_8",
    "MULTIGPU_MEDIUM",
)
# NOTE: approximate per-cloud offer (A10G-based GPU_MEDIUM and MULTIGPU_MEDIUM are AWS-only here);
# a scenario sets the exact set with `workspace.workload_types`.
CLOUD_WORKLOAD_TYPES: dict[str, frozenset[str]] = {
    "aws": frozenset(WORKLOAD_TYPES),
    "azure": frozenset({"CPU", "CPU_MEDIUM", "CPU_LARGE", "GPU_SMALL", "GPU_LARGE", "GPU_XLARGE", "GPU_XLARGE_8"}),
    "gcp": frozenset({"CPU", "CPU_MEDIUM", "CPU_LARGE", "GPU_MEDIUM", "GPU_LARGE", "GPU_XLARGE_8"}),
}
ENTITY_INPUT_FIELDS = (
    "name",
    "entity_name",
    "entity_version",
    "external_model",
    "workload_size",
    "workload_type",
    "scale_to_zero_enabled",
    "min_provisioned_concurrency",
    "max_provisioned_concurrency",
    "min_provisioned_throughput",
    "max_provisioned_throughput",
    "provisioned_model_units",
    "burst_scaling_enabled",
    "environment_vars",
    "instance_profile_arn",
)
COMPUTE_FIELDS = (
    "workload_size",
    "workload_type",
    "scale_to_zero_enabled",
    "min_provisioned_concurrency",
    "max_provisioned_concurrency",
    "min_provisioned_throughput",
    "max_provisioned_throughput",
    "provisioned_model_units",
)
INT_FIELDS = (
    "min_provisioned_concurrency",
    "max_provisioned_concurrency",
    "min_provisioned_throughput",
    "max_provisioned_throughput",
    "provisioned_model_units",
)


@dataclass(frozen=True)
class EntityRules:
    """Context of one config request: the creator, the time, and the checks that apply."""

    workspace: Workspace
    creator: str
    now_ms: int
    # Config updates require an explicit scale_to_zero_enabled on custom model entities.
    require_scale_to_zero: bool = False
    # Databricks-managed endpoints serve pay-per-token Foundation Models without provisioned throughput.
    system: bool = False


def entity_kind(entity: dict[str, Any]) -> EntityKind:
    if "external_model" in entity:
        return "external"
    if str(entity.get("entity_name", "")).startswith(FOUNDATION_PREFIX):
        return "foundation"
    return "custom"


def normalise_entity(raw: Any, where: str, rules: EntityRules) -> dict[str, Any]:
    """Turn one `served_entities[]` input item into its stored output shape."""
    entity = dict(require_object(raw, where))
    if "model_name" in entity or "model_version" in entity:
        raise bad_request(
            f"Unknown field(s) model_name/model_version in '{where}': served_entities use 'entity_name' and "
            "'entity_version' (model_name and model_version belong to the deprecated served_models)."
        )
    reject_unexpected_fields(entity, ENTITY_INPUT_FIELDS, f"'{where}'")
    for field in INT_FIELDS:
        if field in entity:
            entity[field] = coerce_int(entity[field], f"{where}.{field}")
    for field in ("scale_to_zero_enabled", "burst_scaling_enabled"):
        if field in entity:
            entity[field] = coerce_bool(entity[field], f"{where}.{field}")
    if "environment_vars" in entity:
        entity["environment_vars"] = _environment_vars(entity["environment_vars"], f"{where}.environment_vars")
    if "instance_profile_arn" in entity:
        require_string(entity["instance_profile_arn"], f"{where}.instance_profile_arn")
    kind = entity_kind(entity)
    if kind == "external":
        _normalise_external(entity, where)
    else:
        _check_registry_entity(entity, where, rules)
        _normalise_compute(entity, where, rules, kind)
    name = entity.get("name") or default_entity_name(entity)
    if not isinstance(name, str) or not ENTITY_NAME_PATTERN.match(name):
        raise bad_request(f"Invalid served entity name {name!r} in '{where}': use letters, digits, '-' and '_'.")
    entity["name"] = name
    entity["creator"] = rules.creator
    entity["creation_timestamp"] = rules.now_ms
    return entity


def _environment_vars(value: Any, where: str) -> dict[str, str]:
    env = require_object(value, where)
    bad = sorted(k for k, v in env.items() if not isinstance(v, str))
    if bad:
        raise bad_request(f"'{where}' values must be strings; not strings: {bad}.")
    return dict(env)


def _normalise_external(entity: dict[str, Any], where: str) -> None:
    present = [f for f in COMPUTE_FIELDS if f in entity]
    if present:
        raise bad_request(
            f"'{where}' has an external_model and compute field(s) {present}: provisioned compute and "
            "throughput are not supported for external model entities. Remove those fields."
        )
    mixed = [f for f in ("entity_name", "entity_version") if f in entity]
    if mixed:
        raise bad_request(f"'{where}' has an external_model and {mixed}: give either external_model or entity_name.")
    entity["external_model"] = normalise_external_model(entity["external_model"], f"{where}.external_model")


def _check_registry_entity(entity: dict[str, Any], where: str, rules: EntityRules) -> None:
    """Check that the model version exists in the registry; `system.ai` models outside it are allowed."""
    model_name = require_string(entity.get("entity_name"), f"{where}.entity_name")
    if "entity_version" in entity:
        entity["entity_version"] = _version_text(entity["entity_version"], f"{where}.entity_version")
    version_text = entity.get("entity_version")
    model = rules.workspace.models.get(model_name)
    if model is None:
        if model_name.startswith(FOUNDATION_PREFIX):
            return
        raise not_found(
            f"Model '{model_name}' referenced by '{where}' does not exist in Unity Catalog. "
            "Register the model first, or fix entity_name."
        )
    registered = ", ".join(str(v) for v in sorted(model.versions)) or "none"
    if not version_text:
        raise bad_request(
            f"Field '{where}.entity_version' is required. Registered versions of '{model_name}': {registered}."
        )
    number = parse_decimal(version_text)
    if number is None or number not in model.versions:
        raise not_found(
            f"Model version '{model_name}' version {short_repr(version_text)} referenced by '{where}' does not "
            f"exist. Registered versions: {registered}. Register the version first or use one of these."
        )
    status = model.versions[number].status
    if status != "READY":
        raise bad_request(
            f"Model version '{model_name}' version '{version_text}' referenced by '{where}' has status {status}; "
            "only READY versions can be served."
        )


def _version_text(value: Any, where: str) -> str:
    """Return an entity_version as text. The API takes a string, and integers are accepted too."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise bad_request(f"Field '{where}' must be a model version string such as \"1\", got {short_repr(value)}.")
    return str(value)


def _normalise_compute(entity: dict[str, Any], where: str, rules: EntityRules, kind: EntityKind) -> None:
    units = entity.get("provisioned_model_units")
    if units is not None and units <= 0:
        raise bad_request(f"Field '{where}.provisioned_model_units' must be a positive integer, got {units}.")
    # Zero throughput means none: the create body the CLI documents sends min/max 0 with scale to zero.
    if units is not None or entity.get("max_provisioned_throughput", 0) > 0:
        if entity.get("scale_to_zero_enabled") is True:
            raise bad_request(f"'{where}': scale_to_zero_enabled is not supported with provisioned throughput.")
        entity["scale_to_zero_enabled"] = False
        return
    if kind == "foundation":
        if not rules.system:
            raise bad_request(
                f"'{where}' serves Foundation Model '{entity['entity_name']}' without provisioned throughput: set "
                "'provisioned_model_units' (or query the pay-per-token 'databricks-' endpoint of that model)."
            )
        # Pay-per-token entities never scale to zero.
        entity["scale_to_zero_enabled"] = False
        return
    if rules.require_scale_to_zero and "scale_to_zero_enabled" not in entity:
        raise bad_request(
            f"Field '{where}.scale_to_zero_enabled' is undefined: set it to either true or false. "
            "Config updates require it on every custom model entity."
        )
    _check_workload(entity, where, rules.workspace)


def _check_workload(entity: dict[str, Any], where: str, workspace: Workspace) -> None:
    has_concurrency = "min_provisioned_concurrency" in entity or "max_provisioned_concurrency" in entity
    if "workload_size" in entity and has_concurrency:
        raise bad_request(
            f"'{where}': workload_size and min/max_provisioned_concurrency are mutually exclusive; give one of them."
        )
    if has_concurrency:
        _check_concurrency(entity, where)
    else:
        entity.setdefault("workload_size", "Small")
    size = entity.get("workload_size")
    if size is not None and size not in WORKLOAD_SIZES:
        raise bad_request(
            f"Workload size '{size}' is not supported (field '{where}.workload_size'). "
            f"Supported sizes: {', '.join(WORKLOAD_SIZES)}."
        )
    workload_type = entity.setdefault("workload_type", "CPU")
    if workload_type not in WORKLOAD_TYPES:
        raise bad_request(
            f"Field '{where}.workload_type' must be one of {list(WORKLOAD_TYPES)}, got {workload_type!r}."
        )
    offered = workspace.workload_types or CLOUD_WORKLOAD_TYPES.get(workspace.cloud, frozenset(WORKLOAD_TYPES))
    if workload_type not in offered:
        raise bad_request(
            f"Workload type '{workload_type}' with workload size '{size or 'provisioned concurrency'}' is not "
            f"supported in this workspace (cloud '{workspace.cloud}', field '{where}.workload_type'). "
            f"Available workload types: {sorted(offered)}."
        )


def _check_concurrency(entity: dict[str, Any], where: str) -> None:
    low = entity.get("min_provisioned_concurrency", 0)
    high = entity.get("max_provisioned_concurrency")
    if high is None:
        raise bad_request(f"Field '{where}.max_provisioned_concurrency' is required with min_provisioned_concurrency.")
    if low < 0 or high <= 0 or low > high:
        raise bad_request(
            f"'{where}': provisioned concurrency must satisfy 0 <= min <= max and max > 0, got min {low}, max {high}."
        )
