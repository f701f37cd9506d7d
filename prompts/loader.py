"""Load the Markdown prompt templates in templates/ and register them as MCP prompts."""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from mcp.server import MCPServer
from mcp.server.mcpserver.prompts.base import Prompt, PromptArgument

TEMPLATE_DIR = Path(__file__).with_name("templates")


@dataclass(frozen=True)
class TemplateArgument:
    name: str
    description: str
    required: bool


@dataclass(frozen=True)
class PromptTemplate:
    name: str
    description: str
    arguments: tuple[TemplateArgument, ...]
    body: str

    def render(self, values: dict[str, str]) -> str:
        missing = [a.name for a in self.arguments if a.required and not values.get(a.name)]
        if missing:
            raise ValueError(f"Prompt {self.name!r} is missing required argument(s): {', '.join(missing)}")
        return self.body.format_map({a.name: values.get(a.name, "") for a in self.arguments})


def parse_template(name: str, text: str) -> PromptTemplate:
    """Split a template file into its front matter and body."""
    if not text.startswith("---\n"):
        raise ValueError(f"Prompt template {name!r} must start with a '---' front matter block")
    front, _, body = text[4:].partition("\n---\n")
    meta: dict[str, Any] = yaml.safe_load(front) or {}
    arguments = tuple(
        TemplateArgument(a["name"], a.get("description", ""), bool(a.get("required", False)))
        for a in meta.get("arguments") or []
    )
    return PromptTemplate(name, str(meta.get("description", "")), arguments, body.strip() + "\n")


def load_templates(directory: Path = TEMPLATE_DIR) -> list[PromptTemplate]:
    return [parse_template(path.stem, path.read_text(encoding="utf-8")) for path in sorted(directory.glob("*.md"))]


def register_all(server: MCPServer) -> None:
    """Register each template as an MCP prompt whose arguments are the template's arguments."""
    for template in load_templates():
        server.add_prompt(to_prompt(template))


def to_prompt(template: PromptTemplate) -> Prompt:
    def render(**values: str) -> str:
        return template.render(values)

    return Prompt(
        name=template.name,
        description=template.description,
        arguments=[
            PromptArgument(name=a.name, description=a.description, required=a.required) for a in template.arguments
        ],
        fn=render,
    )
