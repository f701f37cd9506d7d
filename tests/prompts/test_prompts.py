import pytest
from mcp import Client

from prompts import load_templates

pytestmark = pytest.mark.anyio


async def test_prompts_listed_with_arguments(client: Client) -> None:
    listed = await client.list_prompts()
    by_name = {prompt.name: prompt for prompt in listed.prompts}
    assert set(by_name) == {"deploy_model", "triage_endpoint"}
    arguments = by_name["deploy_model"].arguments or []
    assert [(a.name, a.required) for a in arguments] == [("model", True), ("version", True), ("endpoint", True)]


async def test_prompt_renders_arguments(client: Client) -> None:
    result = await client.get_prompt("triage_endpoint", {"endpoint": "ep-demo"})
    text = result.messages[0].content.text  # type: ignore[union-attr]
    assert "`ep-demo`" in text
    assert "{endpoint}" not in text


def test_template_missing_argument_rejected() -> None:
    template = next(t for t in load_templates() if t.name == "deploy_model")
    with pytest.raises(ValueError, match="version"):
        template.render({"model": "main.default.m", "endpoint": "ep"})
