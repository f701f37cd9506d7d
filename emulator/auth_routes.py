"""Host metadata and OAuth routes that databricks-sdk calls when it builds a Config."""

from starlette.routing import BaseRoute

routes: list[BaseRoute] = []
