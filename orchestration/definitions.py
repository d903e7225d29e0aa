"""The Dagster entry point: everything under `defs/`, loaded as one set of definitions."""

import dagster as dg

from twitch_warehouse.logging import configure_logging
from twitch_warehouse.settings import PROJECT_ROOT

configure_logging()


@dg.definitions
def defs() -> dg.Definitions:
    return dg.load_from_defs_folder(project_root=PROJECT_ROOT)
