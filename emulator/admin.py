"""Admin API under /__emulator__/: request log, clock, faults, scenario loading."""

from starlette.routing import BaseRoute

routes: list[BaseRoute] = []
