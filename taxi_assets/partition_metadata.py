"""One partition's own metadata, added by the IO manager that stores a run's months.

Dagster 1.13 has no public way for an IO manager to do this. Each partition's materialisation event
is built by ``_get_output_asset_events`` (``dagster/_core/execution/plan/execute_step.py``) from the
output's metadata, which ``OutputContext.add_output_metadata`` gives every partition alike, plus
``step_context.get_asset_metadata(asset_key, partition_key)``, which only the asset's own
``AssetExecutionContext.add_asset_metadata(metadata, asset_key, partition_key)`` fills. The IO
manager could find that context itself (``AssetExecutionContext.get()``: ``_type_check_and_store_output``
runs inside ``enter_execution_context``, same file), but Dagster marks neither ``get`` nor
``OutputContext.step_context`` public (``test_dagster_api.py``). So an asset hands its context to
its output's months (``Months.with_partition_metadata``), and its IO manager adds each month's
metadata through it: this is the one place that does either.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import dagster as dg


@dataclass(frozen=True)
class PartitionMetadata:
    """``key``'s materialisation of each partition of the run, reached through its asset's context."""

    context: dg.AssetExecutionContext
    key: dg.AssetKey

    def add(self, partition: str, metadata: Mapping[str, object]) -> None:
        """``metadata`` on ``partition``'s materialisation alone."""
        self.context.add_asset_metadata(metadata, self.key, partition)
