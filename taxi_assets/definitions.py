"""The code location: assets, checks and resources for this environment."""

import dagster as dg

from taxi_assets.assets import service_definitions
from taxi_assets.resources import build_resources

_definitions = service_definitions()

defs = dg.Definitions(
    assets=[d for d in _definitions if not isinstance(d, dg.AssetChecksDefinition)],
    asset_checks=[d for d in _definitions if isinstance(d, dg.AssetChecksDefinition)],
    resources=build_resources(),
)
