"""Data-plane routes: endpoint and served-model invocations, OpenAI-compatible routes."""

from starlette.routing import BaseRoute

routes: list[BaseRoute] = []
