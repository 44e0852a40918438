"""Dagster definitions, one module per concern; ``cogo_pipelines.definitions`` loads them all."""
