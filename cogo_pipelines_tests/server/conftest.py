"""A real uvicorn sidecar on a free loopback port, against the test's fresh database."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import psycopg
import pytest
import uvicorn
from cryptography.fernet import Fernet

from cogo_pipelines import settings as settings_module
from cogo_pipelines.server import create_app
from cogo_pipelines.server.http_protocol import UVICORN_OPTIONS
from cogo_pipelines_tests.conftest import TEMPLATE_DB

# Distinctive values: the secrets test greps every output for them.
SECRETS = {
    "SUPABASE_ANON_KEY": "anon-Zq7Kx1-SECRET-ANON-VALUE",
    "SUPABASE_PUBLISHABLE_KEY": "pub-Wm3Jr9-SECRET-PUBLISHABLE-VALUE",
    "SUPABASE_SERVICE_ROLE_KEY": "svc-Hb5Tn2-SECRET-SERVICE-ROLE-VALUE",
    "VAULT_MASTER_KEY": Fernet.generate_key().decode(),
    "NEO4J_PASSWORD": "neo-Pd8Lc4-SECRET-NEO4J-VALUE",
    "COGO_API_TOKEN": "api-Tk6Vb3-SECRET-API-TOKEN-VALUE",
}
API_TOKEN = SECRETS["COGO_API_TOKEN"]


def auth_headers(token: str = API_TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Sidecar:
    url: str
    settings: settings_module.Settings
    server: uvicorn.Server

    def client(self, **kwargs) -> httpx.Client:
        """An authenticated client (the API token as Bearer); ``headers=`` replace it per name."""
        headers = {**auth_headers(), **kwargs.pop("headers", {})}
        return httpx.Client(base_url=self.url, timeout=30, headers=headers, **kwargs)

    def anonymous(self, **kwargs) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30, **kwargs)


def free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def start_server(app, *, log_level: str = "warning") -> tuple[uvicorn.Server, threading.Thread, str]:
    sock = free_socket()
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level=log_level, access_log=False, lifespan="on",
                                          **UVICORN_OPTIONS))  # the HTTP of `cogo serve`, not httptools
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    return server, thread, f"http://127.0.0.1:{port}"


def stop_server(server: uvicorn.Server, thread: threading.Thread) -> None:
    server.should_exit = True
    thread.join(timeout=15)


@pytest.fixture
def secret_env(monkeypatch: pytest.MonkeyPatch, database_url: str) -> dict[str, str]:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    settings_module.reload_settings()
    yield dict(SECRETS)
    settings_module.reload_settings()


@pytest.fixture
def sidecar(secret_env, database_url: str) -> Iterator[Sidecar]:
    settings = settings_module.get_settings()
    assert settings.database_url == database_url
    server, thread, url = start_server(create_app(settings))
    try:
        yield Sidecar(url, settings, server)
    finally:
        stop_server(server, thread)


@pytest.fixture(scope="module")
def shared_sidecar(pg_server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sidecar]:
    """One server and database for a whole module, for tests that only read or only fail
    (the error matrix, the fuzzer): saves a database and a server start per case."""
    name = "s_" + uuid.uuid4().hex[:12]
    with psycopg.connect(pg_server.get_uri(), autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE_DB}")
    url = pg_server.get_uri(name)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DATABASE_URL", url)
        mp.setenv("COGO_HOME", str(tmp_path_factory.mktemp("cogo_home")))
        for key, value in SECRETS.items():
            mp.setenv(key, value)
        settings = settings_module.reload_settings()
        server, thread, base = start_server(create_app(settings))
        try:
            yield Sidecar(base, settings, server)
        finally:
            stop_server(server, thread)
            settings_module.reload_settings()
    with psycopg.connect(pg_server.get_uri(), autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
