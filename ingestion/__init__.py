"""Chat ingestion: parsers for every source into one chat event model, landing files, loading.

Plain Python, no Dagster import: the orchestration layer calls into it.
"""
