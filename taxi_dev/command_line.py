"""The asset selections a user types on the command line, for the tests and benchmarks that type them."""

from taxi_assets.keys import asset_keys, shown


def selection_string(service: str, stages: tuple[str, ...]) -> str:
    """A service's keys of ``stages`` as ``dagster asset materialize --select`` and ``dg launch
    --assets`` take them: ``yellow/raw_trips,yellow/cleaned_trips``.
    """
    return ",".join(shown(key) for key in asset_keys(service, stages))
