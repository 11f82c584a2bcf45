"""The resources the assets call: the lake, PostgreSQL, the warehouse (DuckDB or BigQuery).

Each names the environment variables it reads (``settings.py``); which ones this deployment
uses is ``taxi_assets/defs/resources.py``.
"""
