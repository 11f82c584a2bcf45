-- High-volume for-hire trips (Uber, Lyft, Via, Juno) per pickup zone and month: the question the
-- course leaves open beside the taxis' revenue. Replaced a month at a time, as fct_trips.
{{
  config(
    event_time='trip_month',
    partition_by=({'field': 'trip_month', 'data_type': 'date', 'granularity': 'month'} if target.type == 'bigquery' else none),
  )
}}

select
    coalesce(pz.zone, 'Unknown Zone') as pickup_zone,
    coalesce(pz.borough, 'Unknown') as pickup_borough,
    {% if target.type == 'bigquery' %}cast(date_trunc(trips.pickup_datetime, month) as date)
    {% else %}cast(date_trunc('month', trips.pickup_datetime) as date)
    {% endif %} as trip_month,
    count(*) as total_monthly_trips,
    sum(trips.trip_miles) as total_monthly_trip_miles,
    sum(trips.base_passenger_fare) as revenue_monthly_base_passenger_fare,
    sum(trips.driver_pay) as monthly_driver_pay
from {{ ref('stg_fhvhv_tripdata') }} as trips
left join {{ ref('dim_zones') }} as pz
    on trips.pickup_location_id = pz.location_id
group by 1, 2, 3
