"""Dagster's own evaluation of an eager asset's automation condition, tick by tick, against real
observations of the file the local server publishes."""

from collections.abc import Callable
from typing import Any

import dagster as dg

from taxi_assets.defs.assets.observed_files import ObservedFile


def loaded_again_when_changed_and_only_then(
    observed: ObservedFile,
    asset: dg.AssetsDefinition,
    resources: dict[str, Any],
    publish: Callable[[], object],
    change: Callable[[], object],
) -> None:
    """``asset`` (eager, downstream of ``observed``) is requested when the file is first observed,
    not again while its bytes stay the same, and again once ``change`` republishes it.
    """
    defs = dg.Definitions(assets=[observed.asset, asset], jobs=[observed.job], resources=resources)
    instance = dg.DagsterInstance.ephemeral()
    [loaded] = asset.keys

    def observe() -> str:
        result = defs.resolve_job_def(observed.job.name).execute_in_process(instance=instance)
        assert result.success
        record = instance.get_latest_data_version_record(observed.asset.key)
        assert record is not None and record.asset_observation is not None
        return record.asset_observation.data_version

    def tick(cursor: Any) -> tuple[int, Any]:
        result = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=cursor)
        return result.get_num_requested(loaded), result.cursor

    publish()
    requested, cursor = tick(None)
    assert requested == 0, "the file never observed: nothing to load from yet"
    first = observe()
    requested, cursor = tick(cursor)
    assert requested == 1, "observed, and the asset missing: loaded"
    dg.materialize([asset], instance=instance, resources=resources)
    requested, cursor = tick(cursor)
    assert requested == 0
    assert observe() == first
    requested, cursor = tick(cursor)
    assert requested == 0, "observed again, unchanged: nothing to do"

    change()
    assert observe() != first
    requested, cursor = tick(cursor)
    assert requested == 1, "changed: loaded again"
