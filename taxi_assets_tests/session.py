"""What a user does and looks at: materialise a month or some days, then read each sink."""

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dagster as dg
import duckdb
import pandas as pd

from taxi_assets.constants import postgres_table, warehouse_table
from taxi_assets.definitions import defs
from taxi_assets.keys import CLEANED, DAILY, POSTGRES, RAW, REJECTED, WAREHOUSE, ZONES_KEY, asset_key
from taxi_assets.resources.postgres import PostgresResource
from taxi_assets.resources.sql import quote_literal
from taxi_assets.schema import SCHEMAS

if TYPE_CHECKING:
    from taxi_assets_tests.conftest import Sinks

_LOCATION = defs()
# Every asset and check of the code location, for dg.materialize to select from.
DEFINITIONS = [*_LOCATION.assets, *_LOCATION.asset_checks]


def keys(service: str, *stages: str) -> list[dg.AssetKey]:
    return [asset_key(service, stage) for stage in stages]


def load_zones(resources: dict[str, Any]) -> dg.ExecuteInProcessResult:
    """The taxi zone lookup (served by the test's source server) into the lake and every store."""
    result = dg.materialize(DEFINITIONS, selection=dg.AssetSelection.assets(ZONES_KEY), resources=resources)
    assert result.success, failure_message(result)
    return result


def materialize_month(
    resources: dict[str, Any], service: str, month: str | None, **kwargs: Any
) -> dg.ExecuteInProcessResult:
    """raw → cleaned + rejected → Postgres for one month, with the cleaned checks."""
    selection = dg.AssetSelection.assets(*keys(service, RAW, CLEANED, REJECTED, POSTGRES))
    return dg.materialize(
        DEFINITIONS, selection=selection, resources=resources, partition_key=month, **kwargs
    )


def materialize_days(
    resources: dict[str, Any], service: str, first: str, last: str, **kwargs: Any
) -> dg.ExecuteInProcessResult:
    """daily lake → warehouse for a range of days in one run, as a backfill would."""
    selection = dg.AssetSelection.assets(*keys(service, DAILY, WAREHOUSE))
    tags = {"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last}
    return dg.materialize(DEFINITIONS, selection=selection, resources=resources, tags=tags, **kwargs)


def read_lake_month(lake: Path, stage: str, service: str, month: str) -> pd.DataFrame:
    return pd.read_parquet(lake / service / stage / f"{month}.parquet")


def lake_days(lake: Path, service: str) -> dict[str, list[str]]:
    """Day folder → the files in it, as anyone listing the lake would see it."""
    root = lake / service / DAILY
    return (
        {d.name: sorted(f.name for f in d.iterdir()) for d in sorted(root.iterdir())} if root.exists() else {}
    )


def read_lake_days(lake: Path, service: str) -> pd.DataFrame:
    """The daily dataset read by another engine (DuckDB over hive paths), not by our IO manager; by
    column name, as days loaded before and after a column was added differ in columns.
    """
    pattern = lake / service / DAILY / "*" / "*.parquet"
    with duckdb.connect() as con:
        return con.execute(
            f"select * from read_parquet('{pattern}', hive_partitioning = true, union_by_name = true)"
        ).df()


def warehouse_rows_per_day(path: Path, service: str) -> dict[str, int]:
    if not path.exists():
        return {}
    with duckdb.connect(str(path), read_only=True) as con:
        tables = {
            name for (name,) in con.execute("select table_name from information_schema.tables").fetchall()
        }
        if warehouse_table(service) not in tables:
            return {}
        rows = con.execute(
            f"select pickup_date, count(*) from ny_taxi.{warehouse_table(service)} group by 1 order by 1"
        ).fetchall()
    return {str(day): n for day, n in rows}


def postgres_months(postgres: PostgresResource, service: str) -> dict[str, tuple[int, int]]:
    """Per pickup month: the row count and a fingerprint of every row's content."""
    table = postgres_table(service)
    with postgres.connect() as conn, conn.cursor() as cur:
        cur.execute(f"SELECT to_regclass({quote_literal(postgres.table(table))}) IS NOT NULL")
        if not cur.fetchone()[0]:
            return {}
        cur.execute(
            f"SELECT to_char(pickup_date, 'YYYY-MM'), count(*), sum(hashtext(t::text)::bigint) "
            f"FROM {postgres.table(table)} t GROUP BY 1 ORDER BY 1"
        )
        return {month: (int(n), int(fingerprint)) for month, n, fingerprint in cur.fetchall()}


def connections_on_schema(postgres: PostgresResource, condition: str) -> list[int | None]:
    """The other connections whose current statement names ``postgres``'s schema and meets
    ``condition`` (SQL on ``pg_stat_activity``), as an administrator would list them: their client
    ports (none for a unix socket).
    """
    with postgres.connect() as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT client_port FROM pg_stat_activity WHERE pid <> pg_backend_pid() "
            f"AND position({quote_literal(postgres.schema_name)} in query) > 0 AND ({condition})"
        )
        return [port for (port,) in cur.fetchall()]


def snapshot(sinks: "Sinks") -> dict[str, object]:
    """Every lake file with its content hash, the warehouse's rows per day, Postgres per month."""
    lake = sinks.lake_dir
    state: dict[str, object] = {
        str(p.relative_to(lake)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(lake.rglob("*"))
        if p.is_file()
    }
    for service in SCHEMAS:
        state[f"warehouse:{service}"] = warehouse_rows_per_day(sinks.duckdb_path, service)
        state[f"postgres:{service}"] = postgres_months(sinks.postgres, service)
    return state


def course_cleaning(published: Path, service: str, month: str) -> pd.DataFrame:
    """The course's approach, used as an independent oracle: pandas read_csv (or read_parquet), then
    its filters (FHV: the pickup month alone; high-volume FHV: also its dictionary's impossibilities).
    """
    schema = SCHEMAS[service]
    if published.suffix == ".parquet":
        frame = pd.read_parquet(published)
    else:
        frame = pd.read_csv(published, parse_dates=[schema.pickup_column])
    start = pd.Timestamp(f"{month}-01")
    end = start + pd.offsets.MonthBegin(1)
    pickup = frame[schema.pickup_column]
    keep = (pickup >= start) & (pickup < end)
    if "passenger_count" in frame:
        keep &= (frame["passenger_count"] > 0) & (frame["trip_distance"] > 0)
    if service == "fhvhv":  # what its data dictionary makes impossible; a missing value is no proof
        keep &= (
            ~(frame[schema.dropoff_column] < pickup) & ~(frame["trip_miles"] < 0) & ~(frame["trip_time"] < 0)
        )
    return frame[keep]


def rows_per_pickup_day(trips: pd.DataFrame, service: str) -> dict[str, int]:
    """Rows per pickup day (``2021-01-15``) of trips with the published column names."""
    pickup = trips[SCHEMAS[service].pickup_column]
    return trips.groupby(pickup.dt.date.astype(str)).size().to_dict()


def oracle_per_day(published: Path, service: str, month: str) -> dict[str, int]:
    """Rows per pickup day the course's cleaning keeps of a published month."""
    return rows_per_pickup_day(course_cleaning(published, service, month), service)


def failure_message(result: dg.ExecuteInProcessResult) -> str:
    """What the UI shows for a failed run: each failed step's error and its causes."""
    messages = []
    for event in result.get_step_failure_events():
        error = event.step_failure_data.error
        while error is not None:
            messages.append(error.message)
            error = error.cause
    return "\n".join(messages)
