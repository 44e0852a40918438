"""Headers every sidecar response carries, so a browser never reads one for more than it is.

- ``X-Content-Type-Options: nosniff``: a stored ``<script>`` in a job's log served as
  ``text/markdown`` or ``text/plain`` (``/api/gate-fix/N?format=markdown``, a job's log) is never
  sniffed into HTML;
- ``Content-Security-Policy: frame-ancestors 'none'`` and ``X-Frame-Options: DENY``: no other site
  frames the dashboard to click through it;
- ``Referrer-Policy: same-origin``: a link out of the dashboard does not carry its URL (not
  ``no-referrer``: with it a browser sends ``Origin: null`` on the login form's own POST, which
  the CSRF check refuses as foreign).

A response that already sets one of them keeps its own.
"""

from __future__ import annotations

from cogo_pipelines.server.asgi import HttpMiddleware

SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"content-security-policy", b"frame-ancestors 'none'"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
)


class SecurityHeadersMiddleware(HttpMiddleware):
    """Pure ASGI: adds ``SECURITY_HEADERS`` to the start of every HTTP response."""

    async def handle(self, scope, receive, send) -> None:
        async def with_headers(message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.extend((name, value) for name, value in SECURITY_HEADERS if name not in present)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)
