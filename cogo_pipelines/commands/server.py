"""``cogo serve`` (the sidecar) and ``cogo vault`` (writing provider keys, server side only)."""

from __future__ import annotations

import getpass
import socket
import sys

import typer

from cogo_pipelines.commands import options
from cogo_pipelines.settings import get_settings

PORT_RANGE = (0, 65535)  # 0: a free port chosen by the system

vault_app = typer.Typer(help="Provider API keys in the key-vault (server side; never over HTTP).",
                        no_args_is_help=True)


def serve(
    port: int = typer.Option(None, "--port", help="Port, 0-65535 (default METRICS_PORT, 3100)",
                             callback=options.int_range("port", PORT_RANGE)),
    host: str = typer.Option(None, "--host", help="Bind address (default 127.0.0.1; 0.0.0.0 exposes it)"),
    access_log: bool = typer.Option(True, "--access-log/--no-access-log", help="Log one line per request"),
) -> None:
    """Serve /metrics, /api, /dashboard/local and the edge functions."""
    import uvicorn

    from cogo_pipelines.server import create_app, redact
    from cogo_pipelines.server.http_protocol import UVICORN_OPTIONS

    settings = get_settings()
    port = port if port is not None else settings.metrics_port
    host = host or settings.metrics_host
    _check_address(host, port)
    refusal = bind_refusal(host, settings.api_token)
    if refusal:
        typer.echo(f"cogo: error: {refusal}", err=True)
        raise typer.Exit(2)
    typer.echo(f"cogo sidecar on http://{host}:{port}/dashboard/local (metrics /metrics, API /api/openapi.json)",
               err=True)
    app = create_app(settings)
    redact.install_log_filter()
    uvicorn.run(app, host=host, port=port, access_log=access_log, log_level="info", log_config=_log_config(),
                **UVICORN_OPTIONS)


def _check_address(host: str, port: int) -> None:
    """A port out of range or a host that does not resolve is a bad argument (one line, exit 2),
    not a uvicorn start-up failure (a port past 65535 would even be bound modulo 65536)."""
    problem = None
    if not PORT_RANGE[0] <= port <= PORT_RANGE[1]:
        problem = f"port must be from {PORT_RANGE[0]} to {PORT_RANGE[1]} (--port / METRICS_PORT), got {port}"
    else:
        try:
            socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            problem = f"cannot serve on host {host!r} (--host / METRICS_HOST): {exc}"
    if problem:
        typer.echo(f"cogo: error: {problem}", err=True)
        raise typer.Exit(2)
MIN_TOKEN_LENGTH = 16


def bind_refusal(host: str, token: str | None) -> str | None:
    """Why the sidecar must not start on ``host`` (None when it may): without COGO_API_TOKEN,
    only a loopback address, since /api can start commands on the runners."""
    if token is not None:
        if len(token) < MIN_TOKEN_LENGTH:
            return (f"COGO_API_TOKEN is shorter than {MIN_TOKEN_LENGTH} characters; generate one with "
                    "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`")
        return None
    if _is_loopback(host):
        return None
    return (f"refusing to serve on {host} without COGO_API_TOKEN (anyone who reaches the port could run "
            "commands on the runners): set COGO_API_TOKEN, or bind 127.0.0.1")


def _is_loopback(host: str) -> bool:
    import ipaddress

    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _log_config() -> dict:
    """uvicorn's logging, with configured secrets scrubbed from every line."""
    import copy

    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["secrets"] = {"()": "cogo_pipelines.server.redact.SecretFilter"}
    for handler in config["handlers"].values():
        handler.setdefault("filters", []).append("secrets")
    return config


def _read_key() -> str:
    if sys.stdin.isatty():
        return getpass.getpass("API key (not echoed): ")
    return sys.stdin.readline()


@vault_app.command("set")
def vault_set(provider: str = typer.Argument(..., help="Provider name, e.g. openai")) -> None:
    """Store PROVIDER's key (read from stdin, or prompted without echo), encrypted with VAULT_MASTER_KEY."""
    from cogo_pipelines.edge import key_vault
    from cogo_pipelines.store import db

    try:
        key_vault.validate_provider(provider)
        fernet = key_vault.fernet_from_settings(get_settings())
        key = _read_key().strip()
        if not key:
            raise key_vault.VaultError("no key given on stdin / at the prompt; nothing stored")
        actor = f"cli:{getpass.getuser()}@{socket.gethostname()}"
        with db.session() as conn:
            key_vault.set_key(conn, fernet, provider, key, actor=actor)
    except key_vault.VaultError as exc:
        typer.echo(f"cogo: error: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"stored the key for {provider} (encrypted; fetch it with POST /functions/v1/key-vault)", err=True)


@vault_app.command("list")
def vault_list() -> None:
    """Providers that have a key (never the keys)."""
    from cogo_pipelines.edge import key_vault
    from cogo_pipelines.store import db

    with db.session() as conn:
        for name in key_vault.providers(conn):
            typer.echo(name)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.add_typer(vault_app, name="vault")



