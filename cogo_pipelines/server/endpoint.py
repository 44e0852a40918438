"""One REST operation declared once: its route, its input models, its documented responses.

An ``Endpoint`` parses the path, query and JSON body into its models before the handler runs
(the handler receives them as ``path=``, ``query=``, ``body=``) and gives ``openapi.py`` what it
needs to document the operation, so a parameter cannot be validated one way and documented
another. Handlers stay plain Starlette functions: sync ones run in the thread pool as before;
an operation with a body is async (reading it is).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from inspect import iscoroutinefunction as is_async_callable
from typing import Any

from pydantic import BaseModel
from starlette.requests import Request
from starlette.routing import Route

from cogo_pipelines.server import params

Content = type | dict[str, type]
"""What a response holds: a model or type (sent as JSON), or one per media type."""


@dataclass(frozen=True)
class Endpoint:
    path: str
    handler: Callable[..., Any]
    operation_id: str
    summary: str
    ok: dict[int, tuple[str, Content]]
    method: str = "GET"
    query: type[BaseModel] | None = None
    path_params: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    errors: tuple[int, ...] = (400, 503)
    public: bool = False  # open without the API token (documented with security: [])

    def _inputs(self, request: Request) -> dict[str, BaseModel]:
        inputs: dict[str, BaseModel] = {}
        if self.path_params is not None:
            inputs["path"] = params.parse(self.path_params, request.path_params, where="path")
        if self.query is not None:
            inputs["query"] = params.parse(self.query, request.query_params, where="query")
        return inputs

    def route(self) -> Route:
        handler = self.handler
        if self.body is not None:
            if not is_async_callable(handler):
                raise TypeError(f"{self.operation_id}: an operation with a body needs an async handler")

            @wraps(handler)
            async def with_body(request: Request):
                inputs = self._inputs(request)
                data = await params.json_object(request)
                return await handler(request, body=params.parse(self.body, data, where="body"), **inputs)

            endpoint = with_body
        elif is_async_callable(handler):

            @wraps(handler)
            async def async_endpoint(request: Request):
                return await handler(request, **self._inputs(request))

            endpoint = async_endpoint
        else:

            @wraps(handler)
            def sync_endpoint(request: Request):
                return handler(request, **self._inputs(request))

            endpoint = sync_endpoint
        return Route(self.path, endpoint, methods=[self.method])
