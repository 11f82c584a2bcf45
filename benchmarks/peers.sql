-- A month of yellow-cab trips, cleaned, into PostgreSQL and a daily parquet dataset: the one DuckDB
-- script a user would write instead of the project (benchmarks/peers.py runs it, statement by
-- statement, with its placeholders filled in). PostgreSQL's address comes from libpq's PG* variables.
LOAD postgres;

-- The month read once; integers are published as 1.0 and parse as BIGINT all the same.
CREATE TEMP TABLE cleaned AS
SELECT
    VendorID AS vendor_id,
    tpep_pickup_datetime,
    tpep_dropoff_datetime,
    passenger_count,
    trip_distance,
    RatecodeID AS ratecode_id,
    store_and_fwd_flag,
    PULocationID AS pu_location_id,
    DOLocationID AS do_location_id,
    payment_type,
    fare_amount,
    extra,
    mta_tax,
    tip_amount,
    tolls_amount,
    improvement_surcharge,
    total_amount,
    congestion_surcharge,
    CAST(tpep_pickup_datetime AS DATE) AS pickup_date
FROM read_csv('${source}', header = true, columns = {
    'VendorID': 'BIGINT',
    'tpep_pickup_datetime': 'TIMESTAMP',
    'tpep_dropoff_datetime': 'TIMESTAMP',
    'passenger_count': 'BIGINT',
    'trip_distance': 'DOUBLE',
    'RatecodeID': 'BIGINT',
    'store_and_fwd_flag': 'VARCHAR',
    'PULocationID': 'BIGINT',
    'DOLocationID': 'BIGINT',
    'payment_type': 'BIGINT',
    'fare_amount': 'DOUBLE',
    'extra': 'DOUBLE',
    'mta_tax': 'DOUBLE',
    'tip_amount': 'DOUBLE',
    'tolls_amount': 'DOUBLE',
    'improvement_surcharge': 'DOUBLE',
    'total_amount': 'DOUBLE',
    'congestion_surcharge': 'DOUBLE'
})
-- The project's rules: a pickup in the month, passengers and distance present and positive (a
-- NULL fails every comparison; DuckDB orders NaN above every number, so it is excluded by name).
WHERE tpep_pickup_datetime >= TIMESTAMP '${month_start}'
  AND tpep_pickup_datetime < TIMESTAMP '${month_end}'
  AND passenger_count > 0
  AND trip_distance > 0
  AND NOT isnan(trip_distance);

ATTACH '' AS pg (TYPE postgres);

CREATE SCHEMA IF NOT EXISTS pg.${schema};

CREATE TABLE IF NOT EXISTS pg.${schema}.yellow_cab_data AS FROM cleaned LIMIT 0;

-- The month replaced in one PostgreSQL transaction, as the project replaces it: a rerun leaves the
-- same rows. DuckDB's postgres extension inserts with binary COPY.
BEGIN;

DELETE FROM pg.${schema}.yellow_cab_data
WHERE pickup_date >= DATE '${month_start}' AND pickup_date < DATE '${month_end}';

INSERT INTO pg.${schema}.yellow_cab_data FROM cleaned;

COMMIT;

-- One folder per pickup date (pickup_date=YYYY-MM-DD/data_0.parquet, the date only in the path);
-- a rerun overwrites the month's days and leaves other months' alone.
COPY cleaned TO '${lake}' (FORMAT parquet, PARTITION_BY (pickup_date), OVERWRITE_OR_IGNORE);
