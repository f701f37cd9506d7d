"""Prompt templates: Markdown files with a YAML front matter, registered by the server."""

from prompts.loader import PromptTemplate, load_templates, register_all

__all__ = ["PromptTemplate", "load_templates", "register_all"]
