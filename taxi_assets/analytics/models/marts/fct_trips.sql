-- Every yellow and green trip with its zones and payment described, one row per trip (the course's
-- fct_trips, its int_trips folded in: the trip_id, the payment description, one trip per vendor,
-- second, pickup zone and service).
--
-- Incremental by month (dbt's microbatch): Dagster passes the partition's window
-- (--event-time-start/--event-time-end); the window's rows are replaced, nothing else: a
-- delete and an insert in one transaction on DuckDB, the month's partitions replaced on BigQuery.
{{
  config(
    event_time='pickup_datetime',
    partition_by=({'field': 'pickup_datetime', 'data_type': 'timestamp', 'granularity': 'month'} if target.type == 'bigquery' else none),
    cluster_by=(['pickup_location_id', 'service_type'] if target.type == 'bigquery' else none),
  )
}}

with trips as (
    select * from {{ ref('int_trips_unioned') }}
),

-- The keys that several trips share (the same vendor, second, pickup zone and service: what the
-- course's trip_id hashes): few. Only their trips go through the window below; a window over every
-- trip of the month kept them all in DuckDB's memory, which no memory limit made it spill (5 GB
-- for a 7.4M-row month). Keyed on the columns themselves, not on trip_id: the md5 is then computed
-- once per trip kept, below, instead of for every trip in each of the three reads of `trips`
-- (docs/analytics.md, "Bounded memory"). Equal keys are equal ids: each column's text is distinct
-- for distinct values, a missing zone included (hence `is not distinct from`).
shared_keys as (
    select vendor_id, pickup_datetime, pickup_location_id, service_type
    from trips
    group by vendor_id, pickup_datetime, pickup_location_id, service_type
    having count(*) > 1
),

{%- set same_key -%}
    trips.vendor_id = shared_keys.vendor_id
    and trips.pickup_datetime = shared_keys.pickup_datetime
    and trips.pickup_location_id is not distinct from shared_keys.pickup_location_id
    and trips.service_type = shared_keys.service_type
{%- endset %}

-- One trip of several that share a key is kept: the first to end (the rest of the order only
-- makes the choice the same on every run).
deduplicated as (
    select trips.*
    from trips
    left join shared_keys
        on {{ same_key }}
    where shared_keys.service_type is null
    union all
    select trips.*
    from trips
    inner join shared_keys
        on {{ same_key }}
    qualify row_number() over (
        partition by trips.vendor_id, trips.pickup_datetime, trips.pickup_location_id, trips.service_type
        order by trips.dropoff_datetime, trips.dropoff_location_id, trips.total_amount, trips.trip_distance,
            trips.fare_amount, trips.tip_amount, trips.passenger_count, trips.payment_type
    ) = 1
)

select
    {{ trip_id(['trips.vendor_id', 'trips.pickup_datetime', 'trips.pickup_location_id', 'trips.service_type']) }} as trip_id,
    trips.vendor_id,
    trips.service_type,
    trips.rate_code_id,
    trips.pickup_location_id,
    pz.borough as pickup_borough,
    pz.zone as pickup_zone,
    trips.dropoff_location_id,
    dz.borough as dropoff_borough,
    dz.zone as dropoff_zone,
    trips.pickup_datetime,
    trips.dropoff_datetime,
    trips.store_and_fwd_flag,
    trips.passenger_count,
    trips.trip_distance,
    trips.trip_type,
    {{ dbt.datediff('trips.pickup_datetime', 'trips.dropoff_datetime', 'minute') }} as trip_duration_minutes,
    trips.fare_amount,
    trips.extra,
    trips.mta_tax,
    trips.tip_amount,
    trips.tolls_amount,
    trips.ehail_fee,
    trips.improvement_surcharge,
    trips.total_amount,
    coalesce(trips.payment_type, 0) as payment_type,
    {{ get_payment_type_description('coalesce(trips.payment_type, 0)') }} as payment_type_description
from deduplicated as trips
-- A left join keeps trips whose zone the lookup lacks.
left join {{ ref('dim_zones') }} as pz
    on trips.pickup_location_id = pz.location_id
left join {{ ref('dim_zones') }} as dz
    on trips.dropoff_location_id = dz.location_id
