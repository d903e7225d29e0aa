"""Cross-cutting run policy, applied to every job in one place."""

import dagster as dg

# Transient failures (a restarted database, a dropped connection) retry with backoff. Failures
# that would only repeat raise `dg.Failure(allow_retries=False)` (see `orchestration.dbt`).
RETRY_POLICY = dg.RetryPolicy(max_retries=3, delay=2, backoff=dg.Backoff.EXPONENTIAL)
