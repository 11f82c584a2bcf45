"""IO managers: each maps Dagster's context (asset key, partition window) onto a resource's call."""

# The keys the assets name their IO managers by.
LAKE_FILES_IO_MANAGER = "io_manager"
LAKE_DAYS_IO_MANAGER = "lake_days_io_manager"
WAREHOUSE_IO_MANAGER = "warehouse_io_manager"
POSTGRES_IO_MANAGER = "postgres_io_manager"
WAREHOUSE_MODELS_IO_MANAGER = "warehouse_models_io_manager"  # the dbt models' tables
