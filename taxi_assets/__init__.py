"""NYC taxi trips as Dagster assets: TLC monthly files → cleaned → Postgres, lake and warehouse."""
