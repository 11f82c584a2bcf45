-- High-volume for-hire trips (Uber, Lyft, Via, Juno), the columns the zone mart sums and those a
-- reader filters by.
select
    hvfhs_license_num,
    dispatching_base_num,
    cast(pu_location_id as integer) as pickup_location_id,
    cast(do_location_id as integer) as dropoff_location_id,
    cast(pickup_datetime as timestamp) as pickup_datetime,
    cast(dropoff_datetime as timestamp) as dropoff_datetime,
    cast(trip_miles as numeric) as trip_miles,
    cast(trip_time as integer) as trip_time,
    cast(base_passenger_fare as numeric) as base_passenger_fare,
    cast(tolls as numeric) as tolls,
    cast(tips as numeric) as tips,
    cast(driver_pay as numeric) as driver_pay
from {{ source('ny_taxi', 'fhvhv_trips') }}
