"""Unity Catalog model registry subset: registered models, versions and aliases."""

from starlette.routing import BaseRoute

routes: list[BaseRoute] = []
