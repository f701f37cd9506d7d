"""Serving endpoint permissions keyed by endpoint id, and permission checks for other routes."""

from starlette.routing import BaseRoute

routes: list[BaseRoute] = []
