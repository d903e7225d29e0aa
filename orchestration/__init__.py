"""The Dagster project: `definitions.py` loads `defs/`, which only declares assets, checks,
schedules, sensors and resources. Business logic lives in `ingestion/`, `ml/` and `reports/`."""
