"""How a run executes its steps: one after another in the run's own process.

Each run is a chain (raw → cleaned → PostgreSQL; daily → warehouse) with nothing to run side by
side, and a step process costs 3-5 s of imports on a small machine. Runs still go in parallel,
as the queue in dagster.yaml allows.
"""

import dagster as dg


@dg.definitions
def execution() -> dg.Definitions:
    return dg.Definitions(executor=dg.in_process_executor)
