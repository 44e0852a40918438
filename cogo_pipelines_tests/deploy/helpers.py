"""Paths and readers shared by the deployment tests."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCKER_DIR = REPO_ROOT / "docker"
SERVER_COMPOSE = DOCKER_DIR / "docker-compose.yml"
DEVPC_COMPOSE = DOCKER_DIR / "docker-compose.devpc.yml"
DOCKERFILE = DOCKER_DIR / "Dockerfile"
ENV_EXAMPLE = REPO_ROOT / ".env.example"
VENV_BIN = REPO_ROOT / ".venv" / "bin"

SERVICE_ROLE_KEY = "SUPABASE_SERVICE_ROLE_KEY"
VAULT_MASTER_KEY = "VAULT_MASTER_KEY"
API_TOKEN = "COGO_API_TOKEN"
SERVER_SECRETS = (SERVICE_ROLE_KEY, VAULT_MASTER_KEY, API_TOKEN)
# Which server services hold which server secret (docs/README_BETA_OPS.md, "Which key lives where").
GRANTED = {
    SERVICE_ROLE_KEY: {"dagster-code", "quality-runner"},
    VAULT_MASTER_KEY: {"metrics"},
    API_TOKEN: {"metrics"},
}
# Granted secrets compose must refuse to start without (the rest default to empty).
REQUIRED = {API_TOKEN}
RUNNER_SERVICES = ("plan-runner", "quality-runner")

# ${VAR}, ${VAR:-x}, ${VAR:?msg}, but not $${VAR} (a variable of the container's own shell).
COMPOSE_VAR = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)")


def load_compose(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {key: "" if value is None else str(value) for key, value in env.items()}


def uses_cogo_image(service: dict) -> bool:
    build = service.get("build") or {}
    return isinstance(build, dict) and build.get("dockerfile") == "docker/Dockerfile"


def documented_env_vars() -> set[str]:
    """Variables that .env.example sets (uncommented ``NAME=`` lines)."""
    found = set()
    for line in ENV_EXAMPLE.read_text().splitlines():
        match = re.match(r"^([A-Z_][A-Z0-9_]*)=", line)
        if match:
            found.add(match.group(1))
    return found


def compose_command() -> list[str] | None:
    """``docker compose`` (plugin) or ``docker-compose`` (Debian's v1), whichever works here."""
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], check=False, capture_output=True, text=True)
        if probe.returncode == 0:
            return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


def hadolint() -> str | None:
    for candidate in (VENV_BIN / "hadolint", shutil.which("hadolint")):
        if candidate and Path(candidate).exists():
            return str(candidate)
    return None
