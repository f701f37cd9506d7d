from typing import Any

import pytest

from tests.tools.support import EXTERNAL, TURBINE
from tools.errors import InvalidArgument
from tools.rules import (
    coerce_bool,
    coerce_int,
    derive_entity_name,
    normalise_ai_gateway,
    normalise_routes,
    normalise_served_entities,
    normalise_served_entity,
    normalise_tags,
    validate_endpoint_name,
)


def entity(**changes: Any) -> dict[str, Any]:
    return {**TURBINE, **changes}


# Endpoint names ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["ep", "ep-demo_1", "a" * 63])
def test_endpoint_name_valid(name: str) -> None:
    assert validate_endpoint_name(name) == name


@pytest.mark.parametrize("name", ["", "a" * 64, "ep demo", "ep.demo", "ep/x", 7])
def test_endpoint_name_invalid(name: Any) -> None:
    with pytest.raises(InvalidArgument) as caught:
        validate_endpoint_name(name)
    assert caught.value.field == "name"
    assert "1-63" in caught.value.fix


def test_endpoint_name_reserved_prefix() -> None:
    with pytest.raises(InvalidArgument) as caught:
        validate_endpoint_name("databricks-mine")
    assert "databricks-" in caught.value.problem
    assert "without that prefix" in caught.value.fix


# Served entity names -------------------------------------------------------------------------


def test_derive_name_uses_last_uc_component() -> None:
    assert derive_entity_name(TURBINE) == "turbine_failure-3"


def test_derive_name_external_model() -> None:
    external = {"external_model": {"name": "claude-3.5:latest"}}
    assert derive_entity_name(external) == "claude-3-5-latest"


def test_derive_name_keeps_given_name() -> None:
    assert derive_entity_name(entity(name="current")) == "current"


# Served entities -------------------------------------------------------------------------------


def test_entity_version_int_becomes_string() -> None:
    result = normalise_served_entity(entity(entity_version=3), "served_entities[0]")
    assert result["entity_version"] == "3"


@pytest.mark.parametrize("version", ["v3", "latest", "@prod", "", None, 0, "3.1", True])
def test_entity_version_invalid(version: Any) -> None:
    with pytest.raises(InvalidArgument) as caught:
        normalise_served_entity(entity(entity_version=version), "served_entities[0]")
    assert caught.value.field == "served_entities[0].entity_version"


def test_entity_version_missing() -> None:
    raw = {"entity_name": "main.default.turbine_failure"}
    with pytest.raises(InvalidArgument) as caught:
        normalise_served_entity(raw, "served_entities[0]")
    assert caught.value.field == "served_entities[0].entity_version"


@pytest.mark.parametrize("name", ["default.turbine_failure", "a.b.c.d", "main..model", "", "  "])
def test_entity_name_not_three_level(name: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        normalise_served_entity(entity(entity_name=name), "served_entities[0]")
    assert caught.value.field == "served_entities[0].entity_name"


def test_entity_legacy_fields_mapped() -> None:
    raw = {"model_name": "main.default.turbine_failure", "model_version": 2, "scale_to_zero_enabled": True}
    result = normalise_served_entity(raw, "served_entities[0]")
    assert result == {
        "entity_name": "main.default.turbine_failure",
        "entity_version": "2",
        "scale_to_zero_enabled": True,
    }


def test_entity_legacy_fields_conflict() -> None:
    raw = {**TURBINE, "model_version": "2"}
    with pytest.raises(InvalidArgument) as caught:
        normalise_served_entity(raw, "served_entities[0]")
    assert caught.value.field == "served_entities[0].model_version"


def test_entity_scale_to_zero_defaults_true() -> None:
    result = normalise_served_entity(TURBINE, "served_entities[0]")
    assert result["scale_to_zero_enabled"] is True


def test_entity_scale_to_zero_false_kept() -> None:
    result = normalise_served_entity(entity(scale_to_zero_enabled=False), "served_entities[0]")
    assert result["scale_to_zero_enabled"] is False


def test_entity_scale_to_zero_string_false() -> None:
    result = normalise_served_entity(entity(scale_to_zero_enabled="false"), "served_entities[0]")
    assert result["scale_to_zero_enabled"] is False


def test_entity_throughput_no_scale_to_zero() -> None:
    raw = {"entity_name": "system.ai.llama_v3_2_3b_instruct", "entity_version": "1", "provisioned_model_units": "50"}
    result = normalise_served_entity(raw, "served_entities[0]")
    assert result["provisioned_model_units"] == 50
    assert result["scale_to_zero_enabled"] is False


def test_entity_workload_type_normalised() -> None:
    result = normalise_served_entity(entity(workload_type="gpu_small"), "served_entities[0]")
    assert result["workload_type"] == "GPU_SMALL"


def test_entity_workload_type_unknown() -> None:
    with pytest.raises(InvalidArgument) as caught:
        normalise_served_entity(entity(workload_type="TPU"), "served_entities[0]")
    assert caught.value.field == "served_entities[0].workload_type"
    assert "GPU_SMALL" in caught.value.fix


def test_entity_size_and_concurrency_exclusive() -> None:
    raw = entity(min_provisioned_concurrency=0, max_provisioned_concurrency=4)
    with pytest.raises(InvalidArgument) as caught:
        normalise_served_entity(raw, "served_entities[0]")
    assert caught.value.field == "served_entities[0].workload_size"


def test_entity_concurrency_strings_coerced() -> None:
    raw = {**TURBINE, "min_provisioned_concurrency": "0", "max_provisioned_concurrency": "8"}
    del raw["workload_size"]
    result = normalise_served_entity(raw, "served_entities[0]")
    assert result["min_provisioned_concurrency"] == 0
    assert result["max_provisioned_concurrency"] == 8


def test_entity_unknown_field() -> None:
    with pytest.raises(InvalidArgument) as caught:
        normalise_served_entity(entity(state={"ready": "READY"}), "served_entities[0]")
    assert caught.value.value == ["state"]


def test_entity_environment_values_stringified() -> None:
    result = normalise_served_entity(entity(environment_vars={"THREADS": 4}), "served_entities[0]")
    assert result["environment_vars"] == {"THREADS": "4"}


# External models -------------------------------------------------------------------------------


def test_external_entity_sent_without_compute_defaults() -> None:
    result = normalise_served_entity(EXTERNAL, "served_entities[0]")
    assert result == EXTERNAL
    assert "scale_to_zero_enabled" not in result


@pytest.mark.parametrize("extra", ["workload_size", "workload_type", "scale_to_zero_enabled", "entity_name"])
def test_external_entity_rejects_compute_fields(extra: str) -> None:
    raw = {**EXTERNAL, extra: "Small"}
    with pytest.raises(InvalidArgument) as caught:
        normalise_served_entity(raw, "served_entities[0]")
    assert caught.value.value == [extra]
    assert "external model entity has only" in caught.value.fix


def test_external_model_json_text_parsed() -> None:
    raw = {"external_model": '{"name": "m", "provider": "anthropic", "task": "llm/v1/chat", "anthropic_config": {}}'}
    result = normalise_served_entity(raw, "served_entities[0]")
    assert result["external_model"]["provider"] == "anthropic"


def test_external_model_unknown_provider() -> None:
    raw = {"external_model": {"name": "m", "provider": "acme", "task": "llm/v1/chat"}}
    with pytest.raises(InvalidArgument) as caught:
        normalise_served_entity(raw, "served_entities[0]")
    assert caught.value.field == "served_entities[0].external_model.provider"


def test_external_model_missing_provider_config() -> None:
    raw = {"external_model": {"name": "m", "provider": "openai", "task": "llm/v1/chat"}}
    with pytest.raises(InvalidArgument) as caught:
        normalise_served_entity(raw, "served_entities[0]")
    assert caught.value.field == "served_entities[0].external_model.openai_config"


def test_external_model_other_provider_config() -> None:
    raw = {"external_model": {"name": "m", "provider": "openai", "task": "llm/v1/chat", "anthropic_config": {}}}
    with pytest.raises(InvalidArgument) as caught:
        normalise_served_entity(raw, "served_entities[0]")
    assert "openai_config" in caught.value.fix


# Entity lists ----------------------------------------------------------------------------------


def test_entities_json_text_accepted() -> None:
    result = normalise_served_entities('[{"entity_name": "main.default.turbine_failure", "entity_version": 3}]')
    assert result[0]["entity_version"] == "3"


def test_entities_empty() -> None:
    with pytest.raises(InvalidArgument) as caught:
        normalise_served_entities([])
    assert caught.value.field == "served_entities"


def test_entities_more_than_fifteen() -> None:
    raw = [entity(name=f"e{i}") for i in range(16)]
    with pytest.raises(InvalidArgument) as caught:
        normalise_served_entities(raw)
    assert "15" in caught.value.problem


def test_entities_duplicate_derived_names() -> None:
    with pytest.raises(InvalidArgument) as caught:
        normalise_served_entities([TURBINE, dict(TURBINE)])
    assert caught.value.value == ["turbine_failure-3"]


def test_entities_mix_external_and_model() -> None:
    with pytest.raises(InvalidArgument) as caught:
        normalise_served_entities([TURBINE, EXTERNAL])
    assert "mixes external models" in caught.value.problem


def test_entities_mix_external_tasks() -> None:
    embed = {"name": "embed", "external_model": {**EXTERNAL["external_model"], "task": "llm/v1/embeddings"}}
    with pytest.raises(InvalidArgument) as caught:
        normalise_served_entities([EXTERNAL, embed])
    assert caught.value.value == ["llm/v1/chat", "llm/v1/embeddings"]


def test_entities_mix_foundation_and_custom() -> None:
    foundation = {"entity_name": "system.ai.llama_v3_2_3b_instruct", "entity_version": "1"}
    with pytest.raises(InvalidArgument) as caught:
        normalise_served_entities([TURBINE, foundation])
    assert "system.ai" in caught.value.problem


# Traffic routes --------------------------------------------------------------------------------

TWO = [entity(name="current"), entity(name="challenger", entity_version="2")]


def test_routes_string_percentages_coerced() -> None:
    raw = [
        {"served_model_name": "current", "traffic_percentage": "90"},
        {"served_model_name": "challenger", "traffic_percentage": "10"},
    ]
    assert normalise_routes(raw, TWO) == [
        {"served_entity_name": "current", "traffic_percentage": 90},
        {"served_entity_name": "challenger", "traffic_percentage": 10},
    ]


def test_routes_derived_entity_names() -> None:
    entities = [TURBINE, entity(entity_version="2")]
    raw = [
        {"served_entity_name": "turbine_failure-3", "traffic_percentage": 90},
        {"served_entity_name": "turbine_failure-2", "traffic_percentage": 10},
    ]
    routes = normalise_routes(raw, entities)
    assert routes is not None
    assert [r["served_entity_name"] for r in routes] == ["turbine_failure-3", "turbine_failure-2"]


def test_routes_model_name_target_suggests_entity_name() -> None:
    raw = [{"served_entity_name": "turbine_failure", "traffic_percentage": 100}]
    with pytest.raises(InvalidArgument) as caught:
        normalise_routes(raw, [TURBINE])
    assert caught.value.field == "traffic_routes[0].served_entity_name"
    assert "'turbine_failure-3'" in caught.value.fix


def test_routes_unknown_target() -> None:
    raw = [{"served_entity_name": "nobody", "traffic_percentage": 100}]
    with pytest.raises(InvalidArgument) as caught:
        normalise_routes(raw, [TURBINE])
    assert caught.value.value == "nobody"
    assert "turbine_failure-3" in caught.value.fix


def test_routes_sum_not_100() -> None:
    raw = [
        {"served_entity_name": "current", "traffic_percentage": 90},
        {"served_entity_name": "challenger", "traffic_percentage": 20},
    ]
    with pytest.raises(InvalidArgument) as caught:
        normalise_routes(raw, TWO)
    assert caught.value.problem == "sums to 110"


def test_routes_duplicate_target() -> None:
    raw = [
        {"served_entity_name": "current", "traffic_percentage": 50},
        {"served_entity_name": "current", "traffic_percentage": 50},
    ]
    with pytest.raises(InvalidArgument) as caught:
        normalise_routes(raw, TWO)
    assert caught.value.value == ["current"]


def test_routes_entity_without_route() -> None:
    with pytest.raises(InvalidArgument) as caught:
        normalise_routes([{"served_entity_name": "current", "traffic_percentage": 100}], TWO)
    assert caught.value.value == ["challenger"]
    assert "traffic_percentage 0" in caught.value.fix


def test_routes_two_different_targets() -> None:
    raw = [{"served_entity_name": "current", "served_model_name": "challenger", "traffic_percentage": 100}]
    with pytest.raises(InvalidArgument):
        normalise_routes(raw, TWO)


@pytest.mark.parametrize("percentage", [50.5, "ninety", True, -1, 101, None])
def test_routes_bad_percentage(percentage: Any) -> None:
    raw = [
        {"served_entity_name": "current", "traffic_percentage": percentage},
        {"served_entity_name": "challenger", "traffic_percentage": 50},
    ]
    with pytest.raises(InvalidArgument) as caught:
        normalise_routes(raw, TWO)
    assert caught.value.field == "traffic_routes[0].traffic_percentage"


def test_routes_traffic_config_object_and_json_text() -> None:
    text = '{"routes": [{"served_entity_name": "current", "traffic_percentage": 100}, '
    text += '{"served_entity_name": "challenger", "traffic_percentage": 0}]}'
    routes = normalise_routes(text, TWO)
    assert routes == [
        {"served_entity_name": "current", "traffic_percentage": 100},
        {"served_entity_name": "challenger", "traffic_percentage": 0},
    ]


def test_routes_omitted_for_one_entity() -> None:
    assert normalise_routes(None, [TURBINE]) is None


def test_routes_required_for_two_entities() -> None:
    with pytest.raises(InvalidArgument) as caught:
        normalise_routes(None, TWO)
    assert "['current', 'challenger']" in caught.value.fix


# Tags, AI Gateway, scalars ---------------------------------------------------------------------


def test_tags_object_form() -> None:
    assert normalise_tags({"team": "ml", "cost_center": 42, "flag": None}) == [
        {"key": "team", "value": "ml"},
        {"key": "cost_center", "value": "42"},
        {"key": "flag"},
    ]


def test_tags_list_form_json_text() -> None:
    assert normalise_tags('[{"key": "team", "value": "ml"}]') == [{"key": "team", "value": "ml"}]


def test_tags_duplicate_key() -> None:
    with pytest.raises(InvalidArgument) as caught:
        normalise_tags([{"key": "team", "value": "a"}, {"key": "team", "value": "b"}])
    assert caught.value.value == ["team"]


def test_tags_missing_key() -> None:
    with pytest.raises(InvalidArgument) as caught:
        normalise_tags([{"value": "a"}])
    assert caught.value.field == "tags[0].key"


def test_ai_gateway_rate_limit_coerced() -> None:
    result = normalise_ai_gateway({"rate_limits": [{"calls": "100", "key": "user"}]})
    assert result == {"rate_limits": [{"calls": 100, "key": "user", "renewal_period": "minute"}]}


def test_ai_gateway_unknown_field() -> None:
    with pytest.raises(InvalidArgument) as caught:
        normalise_ai_gateway({"tags": []})
    assert caught.value.value == ["tags"]


def test_ai_gateway_rate_limit_bad_key() -> None:
    with pytest.raises(InvalidArgument) as caught:
        normalise_ai_gateway({"rate_limits": [{"calls": 1, "key": "ip"}]})
    assert caught.value.field == "ai_gateway.rate_limits[0].key"


@pytest.mark.parametrize(("value", "expected"), [(5, 5), ("5", 5), (" 7 ", 7), (90.0, 90)])
def test_coerce_int_accepts(value: Any, expected: int) -> None:
    assert coerce_int(value, "x") == expected


@pytest.mark.parametrize("value", [True, 1.5, "1e3", "", None, [1]])
def test_coerce_int_rejects(value: Any) -> None:
    with pytest.raises(InvalidArgument):
        coerce_int(value, "x")


@pytest.mark.parametrize(("value", "expected"), [(True, True), ("TRUE", True), (" false ", False)])
def test_coerce_bool_accepts(value: Any, expected: bool) -> None:
    assert coerce_bool(value, "x") is expected


@pytest.mark.parametrize("value", ["yes", 1, 0, None])
def test_coerce_bool_rejects(value: Any) -> None:
    with pytest.raises(InvalidArgument):
        coerce_bool(value, "x")
