-- The taxi zones, from the lookup the zones asset loads (the course's seed taxi_zone_lookup).
select
    location_id,
    borough,
    zone,
    service_zone
from {{ source('ny_taxi', 'taxi_zone_lookup') }}
