"""What keeps the sinks in step with the lake, and the zones with their publisher: Dagster's
declarative automation.

A month's cleaned trips, however they were materialised (the monthly job, the new-month sensor,
a backfill, the UI), are followed by PostgreSQL's month and by the daily lake and warehouse for
each of the month's days; a cleaned month materialised again refreshes them the same way. The
partition mapping from months to days is Dagster's own (a day depends on its month).
"""

import dagster as dg

# Dagster's `eager` without its "latest time window only" part: every partition whose upstream
# was updated follows, not just the newest (a backfilled month's 31 days, an old month re-run).
FOLLOWS_UPSTREAM = dg.AutomationCondition.eager().without(dg.AutomationCondition.in_latest_time_window())

# Every 10 s, not Dagster's default 30: a month's analytics wait for two ticks after its days land
# (the month's models, then the chart), and an evaluation of this location takes about 0.2 s (on an
# empty instance; docs/performance.md).
follow_upstream = dg.AutomationConditionSensorDefinition(
    "follow_upstream",
    target=dg.AssetSelection.all(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=10,
    description="Requests PostgreSQL's month and the daily lake and warehouse of its days when a "
    "cleaned month is materialised, and the taxi zones when the published lookup changed (each "
    "asset's automation condition); a range of days goes as one backfill, in one run.",
)
