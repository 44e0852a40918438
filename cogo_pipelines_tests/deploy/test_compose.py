"""The compose files: structure, documented variables, and where the server secrets go.

No Docker daemon is needed: the files are read with PyYAML, and rendered by ``docker compose
config`` (or Debian's ``docker-compose``) when that binary is installed.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import psycopg
import pytest
import yaml

from cogo_pipelines_tests.deploy.helpers import (
    API_TOKEN,
    COMPOSE_VAR,
    DEVPC_COMPOSE,
    DOCKER_DIR,
    GRANTED,
    REPO_ROOT,
    REQUIRED,
    RUNNER_SERVICES,
    SERVER_COMPOSE,
    SERVER_SECRETS,
    SERVICE_ROLE_KEY,
    VAULT_MASTER_KEY,
    compose_command,
    documented_env_vars,
    environment,
    load_compose,
    uses_cogo_image,
)

SERVER_SERVICES = {
    "postgres", "neo4j", "dagster-code", "dagster-webserver", "dagster-daemon",
    "metrics", "plan-runner", "quality-runner",
}


@pytest.fixture(scope="module")
def server() -> dict:
    return load_compose(SERVER_COMPOSE)


@pytest.fixture(scope="module")
def devpc() -> dict:
    return load_compose(DEVPC_COMPOSE)


def test_server_has_the_roles_of_the_beta(server):
    services = server["services"]
    assert set(services) == SERVER_SERVICES
    assert services["postgres"]["image"].startswith("pgvector/pgvector:")
    assert services["neo4j"]["profiles"] == ["neo4j"]
    assert services["quality-runner"]["profiles"] == ["quality"]
    assert "3100:3100" in services["metrics"]["ports"]
    assert environment(services["plan-runner"])["EXECUTOR_ID"] == "cogo-plan"
    quality = environment(services["quality-runner"])
    assert quality["EXECUTOR_ID"] == "cogo-work"
    assert quality["LIVE_INCLUDE_TYPES"] and all(
        t.startswith("quality.") for t in quality["LIVE_INCLUDE_TYPES"].split(",")
    )
    # The CLI flags agree with the environment, so `ps` and the env tell the same story.
    assert services["plan-runner"]["command"][-2:] == ["--executor-id", "cogo-plan"]
    assert services["quality-runner"]["command"][-1] == quality["LIVE_INCLUDE_TYPES"]


def test_devpc_runs_only_the_work_runner(devpc):
    assert set(devpc["services"]) == {"work-runner"}
    runner = devpc["services"]["work-runner"]
    env = environment(runner)
    assert env["EXECUTOR_ID"] == "cogo-work"
    assert env["LIVE_INCLUDE_TYPES"] == "code.build.test,code.debug"
    assert runner["build"]["target"] == "work-runner"
    for remote in ("DATABASE_URL", "ROUTER_SELECT_URL", "KEY_VAULT_URL", "SUPABASE_ANON_KEY",
                   "SUPABASE_PUBLISHABLE_KEY"):
        assert env[remote].startswith(f"${{{remote}:?"), f"{remote} must come from the dev PC's .env"


@pytest.mark.parametrize("path", [SERVER_COMPOSE, DEVPC_COMPOSE], ids=lambda p: p.name)
def test_every_service_is_complete(path):
    for name, service in load_compose(path)["services"].items():
        assert service.get("image") or service.get("build"), f"{name}: no image/build"
        assert service.get("command"), f"{name}: no command"
        assert service.get("environment") or service.get("env_file"), f"{name}: no environment"
        assert service.get("healthcheck"), f"{name}: no healthcheck"
        assert service.get("restart") == "unless-stopped", name
        if uses_cogo_image(service):
            assert service.get("init") is True, f"{name}: needs an init for signals and zombies"
            mounts = [v.split(":")[1] for v in service.get("volumes", [])]
            assert "/app/logs" in mounts, f"{name}: logs folder not mounted"
            env = environment(service)
            assert env["LOG_TEE_FILE"] == f"/app/logs/{name}.log", f"{name}: logs only on stdout"
            # `cogo runner --log-file` would take the runner's lines off stdout (docker logs).
            assert env.get("LOG_FILE", "") == "", name


def test_server_services_use_the_compose_postgres(server):
    for name, service in server["services"].items():
        if not uses_cogo_image(service):
            continue
        assert service["env_file"] == "../.env", name
        env = environment(service)
        assert "@postgres:5432/" in env["DATABASE_URL"], name
        assert env["DAGSTER_POSTGRES_URL"].endswith("@postgres:5432/dagster"), name
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy", name


def test_every_compose_variable_is_documented_in_env_example():
    documented = documented_env_vars()
    for path in (SERVER_COMPOSE, DEVPC_COMPOSE):
        referenced = set(COMPOSE_VAR.findall(path.read_text()))
        assert referenced, path
        missing = referenced - documented
        assert not missing, f"{path.name} references variables .env.example does not document: {missing}"


def test_server_secrets_are_set_explicitly_and_only_where_granted(server):
    """env_file hands every server service the whole .env; `environment:` decides the secrets."""
    for name, service in server["services"].items():
        env = environment(service)
        if not uses_cogo_image(service):
            assert "env_file" not in service, name
            assert not set(SERVER_SECRETS) & set(env), name
            continue
        for secret in SERVER_SECRETS:
            assert secret in env, f"{name} must set {secret} explicitly (empty when not granted)"
            if name in GRANTED[secret] and secret in REQUIRED:
                assert env[secret].startswith(f"${{{secret}:?set {secret} in .env"), name
            elif name in GRANTED[secret]:
                assert env[secret] == f"${{{secret}:-}}", name
            else:
                assert env[secret] == "", f"{name} must not receive {secret}"


def test_runners_run_as_an_unprivileged_user(server, devpc):
    """A job's command runs with its runner's rights: never root."""
    runners = [server["services"][n] for n in RUNNER_SERVICES] + [devpc["services"]["work-runner"]]
    for service in runners:
        user = str(service.get("user", ""))
        assert user and user.split(":")[0] not in ("0", "root"), service["command"]


def test_the_sidecar_needs_the_api_token(server):
    metrics = server["services"]["metrics"]
    assert "--host" in metrics["command"] and metrics["command"][metrics["command"].index("--host") + 1] == "0.0.0.0"
    assert environment(metrics)[API_TOKEN].startswith("${COGO_API_TOKEN:?")


def test_devpc_never_names_a_server_secret(devpc):
    text = DEVPC_COMPOSE.read_text()
    for secret in SERVER_SECRETS:
        assert secret not in text
    runner = devpc["services"]["work-runner"]
    # An allow-list of variables, no env_file: the dev PC's .env cannot leak into the container.
    assert "env_file" not in runner


def test_dagster_workspace_points_at_the_code_server(server):
    workspace = yaml.safe_load((DOCKER_DIR / "workspace.yaml").read_text())
    grpc = workspace["load_from"][0]["grpc_server"]
    code = server["services"]["dagster-code"]["command"]
    assert grpc["host"] == "dagster-code"
    assert str(grpc["port"]) == code[code.index("-p") + 1]
    assert code[code.index("-m") + 1] == "cogo_pipelines.definitions"
    for name in ("dagster-webserver", "dagster-daemon"):
        command = server["services"][name]["command"]
        assert command[command.index("-w") + 1] == "/app/docker/workspace.yaml"


def test_dagster_yaml_gives_a_postgres_instance_with_daemon_schedules(pg_server, tmp_path, monkeypatch):
    """Load docker/dagster.yaml for real against the embedded Postgres (as if it were compose's)."""
    import dagster as dg

    with psycopg.connect(pg_server.get_uri(), autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS dagster_deploy_test")
        conn.execute("CREATE DATABASE dagster_deploy_test")
    monkeypatch.setenv("DAGSTER_POSTGRES_URL", pg_server.get_uri("dagster_deploy_test"))
    shutil.copy(DOCKER_DIR / "dagster.yaml", tmp_path / "dagster.yaml")
    instance = dg.DagsterInstance.from_config(str(tmp_path))
    try:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
        assert type(instance.schedule_storage).__name__ == "PostgresScheduleStorage"
        assert type(instance.scheduler).__name__ == "DagsterDaemonScheduler"
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        assert instance.get_runs_count() == 0
        # a run lost with dagster-code fails (and frees its run slot) instead of staying STARTED
        assert instance.run_monitoring_enabled and "MONITORING" in instance.get_required_daemon_types()
        assert instance.run_monitoring_max_resume_run_attempts == 0  # the default launcher cannot resume
        assert 3600 <= instance.run_monitoring_max_runtime_seconds <= 24 * 3600
    finally:
        instance.dispose()
    with psycopg.connect(pg_server.get_uri("dagster_deploy_test")) as conn:
        tables = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname='public'")}
    # Dagster's own `jobs` table is why its storage has a database of its own.
    assert {"runs", "event_logs", "jobs"} <= tables


# --- rendered by the real compose binary -------------------------------------------------------

SENTINELS = {SERVICE_ROLE_KEY: "srk-sentinel-7f3a", VAULT_MASTER_KEY: "vmk-sentinel-91c2",
             API_TOKEN: "api-token-sentinel-5d0e-0123456789"}


def _render(tmp_path: Path, compose_file: Path, *profiles: str, env: dict[str, str]) -> dict:
    command = compose_command()
    if command is None:
        pytest.skip("no `docker compose` or `docker-compose` binary here (CI: apt-get install docker-compose)")
    # A copy of the tree shape compose resolves relative paths in: docker/, ../.env, ../examples.
    shutil.copytree(DOCKER_DIR, tmp_path / "docker")
    (tmp_path / "examples" / "cogo-sample").mkdir(parents=True)
    env_file = tmp_path / ".env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in env.items()))
    args = [*command, "--env-file", str(env_file), "-f", str(tmp_path / "docker" / compose_file.name)]
    for profile in profiles:
        args += ["--profile", profile]
    done = subprocess.run([*args, "config"], check=False, capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert done.returncode == 0, done.stderr
    return yaml.safe_load(done.stdout)


def test_compose_config_renders_secrets_only_into_granted_services(tmp_path):
    """A server .env that holds both secrets: only the granted containers end up with them."""
    rendered = _render(
        tmp_path, SERVER_COMPOSE, "quality", "neo4j",
        env={"POSTGRES_PASSWORD": "pw-test", "NEO4J_PASSWORD": "neo4j-test-pw", **SENTINELS},
    )
    assert set(rendered["services"]) == SERVER_SERVICES
    for name, service in rendered["services"].items():
        env = environment(service)  # env_file is merged in by `config`: this is what the container gets
        for secret, value in SENTINELS.items():
            expected = value if name in GRANTED[secret] else ""
            assert env.get(secret, "") == expected, f"{name}: {secret}"
        if uses_cogo_image(service):
            assert env["DATABASE_URL"] == "postgresql://cogo:pw-test@postgres:5432/cogo"


@pytest.mark.parametrize(("env", "missing"), [("", "POSTGRES_PASSWORD"),
                                              ("POSTGRES_PASSWORD=pw\n", "COGO_API_TOKEN")])
def test_compose_config_refuses_a_server_without_postgres_password(tmp_path, env, missing):
    command = compose_command()
    if command is None:
        pytest.skip("no `docker compose` or `docker-compose` binary here (CI: apt-get install docker-compose)")
    shutil.copytree(DOCKER_DIR, tmp_path / "docker")
    (tmp_path / ".env").write_text(env)
    done = subprocess.run(
        [*command, "--env-file", str(tmp_path / ".env"), "-f", str(tmp_path / "docker" / SERVER_COMPOSE.name),
         "config"],
        check=False, capture_output=True, text=True, cwd=tmp_path, timeout=60,
    )
    assert done.returncode != 0
    assert f"set {missing} in .env" in done.stderr


def test_devpc_config_keeps_a_mistaken_service_role_key_out(tmp_path):
    """Even a dev-PC .env that wrongly holds the server secrets does not pass them to the runner."""
    rendered = _render(
        tmp_path, DEVPC_COMPOSE,
        env={
            "DATABASE_URL": "postgresql://cogo:pw@10.0.0.5:5432/cogo",
            "ROUTER_SELECT_URL": "http://10.0.0.5:3100/functions/v1/router-select",
            "KEY_VAULT_URL": "http://10.0.0.5:3100/functions/v1/key-vault",
            "SUPABASE_ANON_KEY": "anon-test",
            "SUPABASE_PUBLISHABLE_KEY": "pub-test",
            "WORK_TREE": str(tmp_path),
            **SENTINELS,
        },
    )
    text = yaml.safe_dump(rendered)
    for value in SENTINELS.values():
        assert value not in text
    env = environment(rendered["services"]["work-runner"])
    assert env["SUPABASE_ANON_KEY"] == "anon-test"
    assert env["DATABASE_URL"] == "postgresql://cogo:pw@10.0.0.5:5432/cogo"


def test_repo_root_paths_compose_mounts_are_git_ignored():
    ignored = (REPO_ROOT / ".gitignore").read_text().splitlines()
    assert "/logs/" in ignored and ".env" in ignored
