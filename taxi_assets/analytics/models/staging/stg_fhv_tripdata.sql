-- For-hire vehicle trips under the course's homework names: those a base dispatched.
select
    dispatching_base_num,
    cast(pu_location_id as integer) as pickup_location_id,
    cast(do_location_id as integer) as dropoff_location_id,
    cast(pickup_datetime as timestamp) as pickup_datetime,
    cast(dropoff_datetime as timestamp) as dropoff_datetime,
    cast(sr_flag as integer) as sr_flag,
    affiliated_base_number
from {{ source('ny_taxi', 'fhv_trips') }}
where dispatching_base_num is not null
