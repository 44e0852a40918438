import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def test_dagster_definitions_validate(tmp_path):
    dagster = Path(sys.executable).with_name("dagster")
    proc = subprocess.run([str(dagster), "definitions", "validate", "-w", "workspace.yaml"],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=300, check=False,
                          env={"PATH": "/usr/bin:/bin", "DAGSTER_HOME": str(tmp_path),
                               "COGO_HOME": str(tmp_path / "home"), "HF_HUB_OFFLINE": "1"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Validation successful for code location cogo_pipelines." in proc.stderr + proc.stdout
    assert "does not match" not in proc.stderr + proc.stdout  # the name pyproject's [tool.dg.project] gives


def _dg_launch(tmp_path, database_url, *extra):
    dg_bin = Path(sys.executable).with_name("dg")
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "DAGSTER_HOME": str(tmp_path),
           "DATABASE_URL": database_url, "COGO_HOME": str(tmp_path / "home"), "HF_HUB_OFFLINE": "1"}
    return subprocess.run([str(dg_bin), "launch", "--job", "q1_gate_job", *extra], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=300, env=env, check=False)


def test_dg_launch_runs_the_gate_like_dagster_job_execute(tmp_path, database_url):
    """`dg launch --job` (Dagster 1.13's successor of `dagster job execute`) finds the project via
    [tool.dg] and fails its run when the gate fails (no job history, empty not allowed)."""
    failed = _dg_launch(tmp_path, database_url)
    assert failed.returncode != 0
    assert "q1_gate" in failed.stderr + failed.stdout
    allowed = _dg_launch(tmp_path, database_url, "--config-json",
                         '{"ops": {"q1_gate": {"config": {"allow_empty": true}}}}')
    assert allowed.returncode == 0, allowed.stderr[-2000:]


# Imports every defs module as tests and tools do (Dagster's folder loader mutes Dagster's warnings
# while it imports, so a module imported directly is the place they show), then loads the code
# location as Dagster does (the repository with resources bound to jobs, schedules and sensors):
# in a fresh interpreter, so no earlier import hides a warning.
_LOAD_AND_LIST_WARNINGS = """
import importlib
import pkgutil
import warnings
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    import dagster as dg
    import cogo_pipelines.defs as package
    for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        importlib.import_module(module.name)
    from cogo_pipelines.definitions import defs
    dg.Definitions.validate_loadable(defs)
    defs.get_repository_def()
dagster_kinds = (dg.BetaWarning, dg.PreviewWarning, dg.SupersessionWarning, dg.ConfigArgumentWarning,
                 DeprecationWarning)
for w in caught:
    if issubclass(w.category, dagster_kinds):
        print(f"{w.category.__name__}: {w.message}")
"""


def test_loading_the_definitions_emits_no_dagster_warnings(tmp_path):
    """A beta, preview or superseded API in the definitions warns in every `dagster dev`, CI and
    `dagster job execute` log; the stable 1.13 API does not."""
    proc = subprocess.run([sys.executable, "-c", _LOAD_AND_LIST_WARNINGS], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=300, check=False,
                          env={"PATH": "/usr/bin:/bin", "DAGSTER_HOME": str(tmp_path),
                               "COGO_HOME": str(tmp_path / "home"), "HF_HUB_OFFLINE": "1"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout == "", proc.stdout
