"""Benchmark: load a real-size cleaned month into PostgreSQL, beside server-side COPY of the same rows.

    .venv/bin/python benchmarks/postgres_load.py [--rows 1369765] [--repeat 5]

Both load the same rows into a table with the same columns:
- ours: ``PostgresResource.replace_month`` as the Postgres IO manager runs it (binary COPY via
  ADBC over several connections into a new table, swapped in for the month's partition);
- the machine's limit: ``COPY … FROM '/path.csv' (FORMAT csv)`` read by the server itself, one
  statement into an emptied plain table.
Connection settings come from POSTGRES_* (default: postgres@127.0.0.1:5432/postgres).
"""

import argparse
import datetime as dt
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pyarrow.csv as pacsv

from taxi_assets.publishers import MIRROR
from taxi_assets.resources.postgres import PostgresResource
from taxi_assets.resources.sql import quote_ident
from taxi_assets.schema import PICKUP_DATE, YELLOW
from taxi_assets.source import download
from taxi_dev.month_tables import clean_trips, read_trips
from taxi_dev.synthetic import write_month

MONTH = dt.datetime(2021, 1, 1), dt.datetime(2021, 2, 1)
DAYS = MONTH[0].date(), MONTH[1].date()


def cleaned_month(rows: int, folder: Path) -> pa.Table:
    path = write_month(folder, "yellow", "2021-01", rows, publisher=MIRROR)
    with download(path.as_uri()) as source:
        raw = read_trips(source, YELLOW)
    return clean_trips(raw, YELLOW, *MONTH).cleaned


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_369_765, help="source rows (2021-01 had 1,369,765)")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    with dg.build_resources({"postgres": PostgresResource()}) as built:  # the environment's settings
        base = built.postgres
    pg = PostgresResource(**{**dict(base), "schema_name": f"bench_{uuid.uuid4().hex[:8]}"})
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        os.chmod(folder, 0o755)  # the server process reads the CSV itself
        table = cleaned_month(args.rows, folder)
        csv = folder / "cleaned.csv"
        pacsv.write_csv(table, csv)
        os.chmod(csv, 0o644)
        print(f"{table.num_rows:,} cleaned rows of {args.rows:,}; CSV {csv.stat().st_size / 1e6:.0f} MB")

        pg.evolve_table("ours", table.schema, PICKUP_DATE, {})
        with pg.connect() as conn, conn.cursor() as cur:
            cur.execute(f"CREATE TABLE {pg.table('server_copy')} (LIKE {pg.table('ours')})")
        ours, server = [], []
        try:
            for _ in range(args.repeat):
                with pg.connect() as conn, conn.cursor() as cur:
                    cur.execute(f"TRUNCATE {pg.table('ours')}, {pg.table('server_copy')}")
                ours.append(timed(lambda: pg.replace_month("ours", PICKUP_DATE, table, *DAYS)))

                def server_copy() -> None:
                    with pg.connect() as conn, conn.cursor() as cur:
                        cur.execute(f"COPY {pg.table('server_copy')} FROM '{csv}' (FORMAT csv, HEADER true)")

                server.append(timed(server_copy))
        finally:
            with pg.connect() as conn, conn.cursor() as cur:
                cur.execute(f"DROP SCHEMA {quote_ident(pg.schema_name)} CASCADE")

    ours_s, server_s = statistics.median(ours), statistics.median(server)
    rows = table.num_rows
    print(f"{'load':<38}{'median s':>10}{'rows/s':>14}")
    print(f"{'ours: parallel binary COPY + swap':<38}{ours_s:>10.2f}{rows / ours_s:>14,.0f}")
    print(f"{'server-side COPY FROM csv':<38}{server_s:>10.2f}{rows / server_s:>14,.0f}")
    print(f"ours / server-side COPY = {ours_s / server_s:.2f} (target ≤ 1.5); runs: {args.repeat}")


if __name__ == "__main__":
    main()
