"""The store's upkeep in Dagster: the daily prune of what it keeps no longer (``store/retention.py``)."""
