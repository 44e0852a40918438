"""Resources shared by every asset, job and sensor."""

from __future__ import annotations

import dagster as dg
import psycopg

from cogo_pipelines.store import db


class PostgresResource(dg.ConfigurableResource):
    """The cogo store. ``database_url`` unset means the embedded server under COGO_HOME/pg."""

    database_url: str | None = None

    def url(self) -> str:
        return self.database_url or db.database_url()

    def connect(self) -> psycopg.Connection:
        # A restart of the database delays a tick instead of failing it.
        return db.connect_retrying(self.url())


defs = dg.Definitions(resources={"postgres": PostgresResource()})
