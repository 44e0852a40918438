"""The Starlette sidecar (DESIGN §6): metrics, REST API, dashboard and the local edge functions."""

from cogo_pipelines.server.app import create_app

__all__ = ["create_app"]
