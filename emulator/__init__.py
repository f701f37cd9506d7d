"""A local Databricks workspace that speaks the Model Serving REST API."""

from emulator.app import create_app
from emulator.clock import Clock
from emulator.scenario import apply_scenario, read_scenario, seeded_workspace
from emulator.state import SANDBOX_TOKEN, SANDBOX_USER, Workspace

__all__ = [
    "SANDBOX_TOKEN",
    "SANDBOX_USER",
    "Clock",
    "Workspace",
    "apply_scenario",
    "create_app",
    "read_scenario",
    "seeded_workspace",
]
