"""Who may use the sidecar: the API token, the browser login, and the cross-origin guard.

``/api/*``, ``/dashboard/*`` and ``/mcp*`` carry source code and can start commands on the
runners, so with ``COGO_API_TOKEN`` set they answer only a request that proves it knows the
token: ``Authorization: Bearer <token>`` (programs) or the session cookie the ``/login`` form
sets (browsers; ``HttpOnly; SameSite=Strict``, 12 h). The cookie holds an expiry and an HMAC of
it keyed by the token, never the token itself, so a copied cookie dies with its expiry and
every cookie dies when the token is rotated. Comparisons are constant-time; a failure is a 401
JSON (a browser navigating to a page is sent to the login form instead) and never says
what was wrong with what was sent.

Without a token the server only ever binds loopback (``cogo serve`` refuses anything else), and
the protected routes also require a loopback ``Host`` header, so a web page that rebinds its
own DNS name to 127.0.0.1 cannot read them. ``/healthz``, ``/metrics`` and the edge functions
(their own ANON + PUBLISHABLE headers) are not behind the token. Whatever the token, a
state-changing request whose ``Origin`` (or ``Sec-Fetch-Site``) says another site sent it is
refused with 403: a page in the operator's browser cannot enqueue jobs with their cookie.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import ipaddress
import time
from http.cookies import SimpleCookie
from urllib.parse import parse_qs, quote, urlsplit

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from cogo_pipelines.server.responses import error

PROTECTED_PREFIXES = ("/api", "/dashboard", "/mcp")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
COOKIE = "cogo_session"
SESSION_SECONDS = 12 * 3600
LOGIN_FORM_MAX_BYTES = 16_384
DEFAULT_NEXT = "/dashboard/local"
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def is_protected(path: str) -> bool:
    return path.startswith(PROTECTED_PREFIXES)


def _same(given: str, expected: str) -> bool:
    # Headers arrive latin-1 decoded; encode back to the bytes that were sent.
    return hmac.compare_digest(given.encode("latin-1", "replace"), expected.encode("utf-8"))


def bearer_ok(authorization: str, token: str) -> bool:
    scheme, _, given = authorization.partition(" ")
    ok = _same(given.strip(), token)  # compared whatever the scheme, so the timing says nothing
    return ok and scheme.lower() == "bearer" and bool(given.strip())


def _mac(token: str, expires: int) -> str:
    return hmac.new(token.encode("utf-8"), f"cogo-session:{expires}".encode(), hashlib.sha256).hexdigest()


def session_value(token: str, now: float | None = None) -> str:
    expires = int(now if now is not None else time.time()) + SESSION_SECONDS
    return f"{expires}.{_mac(token, expires)}"


def session_ok(value: str, token: str, now: float | None = None) -> bool:
    expires_text, _, mac = value.partition(".")
    if not expires_text.isascii() or not expires_text.isdigit() or len(expires_text) > 12:
        return False
    expires = int(expires_text)
    ok = hmac.compare_digest(mac.encode("latin-1", "replace"), _mac(token, expires).encode())
    return ok and expires > (now if now is not None else time.time())


def _cookie(headers: Headers, name: str) -> str:
    raw = headers.get("cookie")
    if not raw:
        return ""
    jar = SimpleCookie()
    try:
        jar.load(raw)
    except Exception:  # a malformed Cookie header is simply no session  # noqa: BLE001
        return ""
    morsel = jar.get(name)
    return morsel.value if morsel is not None else ""


def authenticated(headers: Headers, token: str) -> bool:
    """True when the request carries the token (Bearer) or a live session cookie."""
    authorization = headers.get("authorization")
    if authorization is not None:
        return bearer_ok(authorization, token)
    cookie = _cookie(headers, COOKIE)
    return bool(cookie) and session_ok(cookie, token)


def principal(headers: Headers, token: str | None) -> str:
    """Who the request authenticated as, for audit trails (never a caller's claim)."""
    if token is None:
        return "loopback (no COGO_API_TOKEN)"
    if headers.get("authorization") is not None and bearer_ok(headers["authorization"], token):
        return "api-token"
    return "api-token (browser session)" if authenticated(headers, token) else "unauthenticated"


def _host_name(host: str) -> str:
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].partition("]")[0]
    return host.rpartition(":")[0] if host.count(":") == 1 else host


def _is_loopback_host(host: str) -> bool:
    """``localhost``, ``*.localhost`` (RFC 6761: never resolved by DNS) or a loopback IP literal.
    A name that only starts like one (``127.0.0.1.evil.example``) is a DNS name an attacker can
    rebind to 127.0.0.1: not loopback."""
    name = _host_name(host)
    if name in LOOPBACK_HOSTS or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _origin_of(url: str) -> str:
    parts = urlsplit(url.strip().lower())
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def foreign_origin(scope, headers: Headers, public_base_url: str | None) -> bool:
    """A browser says another site sent this request (an Origin that is not ours, or
    ``Sec-Fetch-Site: cross-site``). Programs send neither header and pass."""
    origin = headers.get("origin")
    if origin is not None:
        own = {f"{scope.get('scheme', 'http')}://{headers.get('host', '').strip().lower()}"}
        if public_base_url:
            own.add(_origin_of(public_base_url))
        return origin.strip().lower() not in own
    return headers.get("sec-fetch-site", "").strip().lower() == "cross-site"


class AuthMiddleware:
    """Pure ASGI: refuses before any route (or body read) runs."""

    def __init__(self, app, settings) -> None:
        self.app = app
        self.token = settings.api_token
        self.public_base_url = settings.public_base_url

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "websocket" and is_protected(scope.get("path", "")):
                await send({"type": "websocket.close", "code": 1008})
                return
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        path = scope.get("path", "")
        refusal = None
        if scope.get("method", "GET") not in SAFE_METHODS and foreign_origin(scope, headers, self.public_base_url):
            refusal = error(403, "cross-origin request refused: this API takes state-changing requests only "
                                 "from its own pages and from programs")
        elif is_protected(path):
            if self.token is None:
                if not _is_loopback_host(headers.get("host", "")):
                    refusal = error(403, "this server has no COGO_API_TOKEN and answers only to a loopback Host")
            elif not authenticated(headers, self.token):
                refusal = self._unauthenticated(scope, headers, path)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        await self.app(scope, receive, send)

    @staticmethod
    def _unauthenticated(scope, headers: Headers, path: str) -> Response:
        # A browser navigating (the dashboard, or a notification's link to /api/gate-fix/N) signs in
        # first; programs (no text/html in Accept) get the 401 JSON.
        wants_page = scope.get("method") in ("GET", "HEAD") and "text/html" in headers.get("accept", "")
        if wants_page:
            query = scope.get("query_string", b"").decode("latin-1")
            target = path + ("?" + query if query else "")
            return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
        return error(401, "authentication required: send Authorization: Bearer <COGO_API_TOKEN> "
                          "(browsers: sign in at /login)", headers={"WWW-Authenticate": 'Bearer realm="cogo"'})


def _safe_next(value: str | None) -> str:
    """Only a local path: never another host (``//evil``, ``/\\evil``), never a scheme."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")) or len(value) > 2000:
        return DEFAULT_NEXT
    if any(ord(c) < 0x20 or c in "\\" for c in value):
        return DEFAULT_NEXT
    return value


_FORM = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>cogo sidecar: sign in</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font-family:system-ui,sans-serif;max-width:28rem;margin:4rem auto;padding:0 1rem}}
input{{font:inherit;padding:.4rem;width:100%;box-sizing:border-box;margin:.4rem 0}}
.error{{color:#b00020}}</style></head>
<body><h1>cogo sidecar</h1>
<p>Sign in with the server's API token (<code>COGO_API_TOKEN</code> in its environment).</p>
{message}
<form method="post" action="/login">
<input type="hidden" name="next" value="{next}">
<label for="token">API token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
<input id="sign-in" type="submit" value="Sign in">
</form></body></html>
"""


def _form(next_path: str, message: str = "", status: int = 200) -> HTMLResponse:
    text = f'<p class="error" id="login-error">{html.escape(message)}</p>' if message else ""
    return HTMLResponse(_FORM.format(message=text, next=html.escape(next_path)), status_code=status,
                        headers={"Cache-Control": "no-store"})


def login_page(request: Request) -> Response:
    next_path = _safe_next(request.query_params.get("next"))
    if request.app.state.settings.api_token is None:
        return RedirectResponse(next_path, status_code=303)
    return _form(next_path)


async def login(request: Request) -> Response:
    token = request.app.state.settings.api_token
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > LOGIN_FORM_MAX_BYTES:
            return error(413, f"login form larger than {LOGIN_FORM_MAX_BYTES} bytes")
    try:
        form = parse_qs(body.decode("utf-8", "replace"), max_num_fields=10)
    except ValueError:  # more fields than a login form has
        form = {}
    next_path = _safe_next((form.get("next") or [None])[0])
    if token is None:
        return RedirectResponse(next_path, status_code=303)
    given = (form.get("token") or [""])[0]
    if not given or not _same_text(given.strip(), token):
        return _form(next_path, "That is not the server's API token.", status=401)
    response = RedirectResponse(next_path, status_code=303)
    secure = request.url.scheme == "https" or (request.app.state.settings.public_base_url or "").startswith("https:")
    response.set_cookie(COOKIE, session_value(token), max_age=SESSION_SECONDS, path="/", httponly=True,
                        samesite="strict", secure=secure)
    return response


def _same_text(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def logout(request: Request) -> Response:
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
    return response


routes = [
    Route("/login", login_page, methods=["GET"]),
    Route("/login", login, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
]
