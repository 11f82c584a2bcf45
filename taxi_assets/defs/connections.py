"""The course's test_config job: each sink of this deployment says OK, or names the setting to fix."""

import dagster as dg

from taxi_assets.connections import check_all, report
from taxi_assets.resources.lake import Lake
from taxi_assets.resources.postgres import PostgresResource
from taxi_assets.resources.warehouse import Warehouse


@dg.op(description="Tries the lake, the warehouse and PostgreSQL with this deployment's settings.")
def check_sinks(
    context: dg.OpExecutionContext, lake: Lake, warehouse: Warehouse, postgres: PostgresResource
) -> None:
    outcomes = check_all(lake, warehouse, postgres)
    for outcome in outcomes:
        context.log.info(report([outcome]))
    failed = [c for c in outcomes if not c.ok]
    if failed:
        raise dg.Failure(
            description=f"{len(failed)} of {len(outcomes)} sinks failed: {', '.join(c.sink for c in failed)}",
            metadata={c.sink: c.detail for c in outcomes},
        )


@dg.job(description="The course's test_config: each sink says OK, or names the setting to fix.")
def check_connections() -> None:
    check_sinks()
