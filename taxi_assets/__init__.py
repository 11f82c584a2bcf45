"""NYC taxi trips as Dagster assets: TLC monthly files → cleaned → Postgres, lake and warehouse."""

import warnings

# dagster-dbt 0.29 asks for sqlglot[rs]; sqlglot 30 no longer uses that extra's tokenizer and warns
# so each time it is imported, in every command that loads this code location (`dg`, the CLI, run
# workers). Nothing a user can do about it; the message alone is silenced, before anything imports
# sqlglot.
warnings.filterwarnings("ignore", message=r"sqlglot\[rs\] is deprecated", category=UserWarning)
