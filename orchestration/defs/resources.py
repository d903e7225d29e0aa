import sys
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource

from orchestration.dbt import dbt_project
from orchestration.resources import emote_apis_resource, twitch_api_resource, warehouse_resource


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(
        resources={
            "warehouse": warehouse_resource(),
            "twitch": twitch_api_resource(),
            "emote_apis": emote_apis_resource(),
            "dbt": DbtCliResource(
                project_dir=dbt_project,
                dbt_executable=str(Path(sys.executable).with_name("dbt")),
            ),
        }
    )
