"""The trips' PostgreSQL as every benchmark reaches it: the project's POSTGRES_* settings from the
environment, each unset one at the project's default (postgres@127.0.0.1:5432, no password).

Standard library only: the peers import it in virtual environments of their own.
"""

import os

DEFAULTS = {
    "POSTGRES_HOST": "127.0.0.1",
    "POSTGRES_PORT": "5432",
    "POSTGRES_DBNAME": "postgres",
    "POSTGRES_USER": "postgres",
    "POSTGRES_PASSWORD": "",
}


def postgres_settings(**settings: str) -> dict[str, str]:
    """POSTGRES_* from the environment or their defaults, then ``settings`` (e.g. POSTGRES_SCHEMA)."""
    return {**{name: os.environ.get(name, default) for name, default in DEFAULTS.items()}, **settings}
