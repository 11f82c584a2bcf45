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
    select
        {{ trip_id(['vendor_id', 'pickup_datetime', 'pickup_location_id', 'service_type']) }} as trip_id,
        *
    from {{ ref('int_trips_unioned') }}
),

-- The ids that several trips share (the same vendor, second, pickup zone and service): few, and
-- only their trips go through the window below. A window over every trip of the month kept them
-- all in DuckDB's memory, which no memory limit made it spill (5 GB for a 7.4M-row month; with
-- this, 1 GB and faster).
shared_ids as (
    select trip_id
    from trips
    group by trip_id
    having count(*) > 1
),

-- One trip of several that share an id is kept: the first to end.
deduplicated as (
    select *
    from trips
    where trip_id not in (select trip_id from shared_ids)
    union all
    select *
    from (
        select *
        from trips
        where trip_id in (select trip_id from shared_ids)
        qualify row_number() over (partition by trip_id order by dropoff_datetime) = 1
    )
)

select
    trips.trip_id,
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
