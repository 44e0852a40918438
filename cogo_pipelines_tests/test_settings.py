from pathlib import Path

from cogo_pipelines.settings import Settings


def test_service_role_key_is_a_secret_that_never_prints(monkeypatch):
    monkeypatch.setenv("SUPABASE_SERVICE_ROLE_KEY", "srk-very-secret-123")
    monkeypatch.setenv("LIVE_INCLUDE_TYPES", "code.build.test, code.debug")
    settings = Settings(_env_file=None)
    assert settings.supabase_service_role_key.get_secret_value() == "srk-very-secret-123"
    for text in (repr(settings), str(settings), settings.model_dump_json()):
        assert "srk-very-secret-123" not in text
    assert "srk-very-secret-123" in settings.secret_values()
    assert settings.live_include_types == ["code.build.test", "code.debug"]


def test_env_file_is_read(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("Q1_THRESHOLD", raising=False)
    (tmp_path / ".env").write_text("Q1_THRESHOLD=0.85\nMETRICS_PORT=3999\n")
    settings = Settings()
    assert settings.q1_threshold == 0.85
    assert settings.metrics_port == 3999
    assert settings.pg_dir == settings.cogo_home / "pg"


def test_the_default_home_is_the_nearest_cogo_folder_like_git(tmp_path, monkeypatch):
    monkeypatch.delenv("COGO_HOME", raising=False)
    repo = tmp_path / "checkout" / "examples" / "app"
    repo.mkdir(parents=True)
    monkeypatch.chdir(repo)
    assert Settings(_env_file=None).cogo_home == Path(".cogo")  # none anywhere: here, made by the first index
    (tmp_path / "checkout" / ".cogo").mkdir()
    assert Settings(_env_file=None).cogo_home == (tmp_path / "checkout" / ".cogo").resolve()
    (repo / ".cogo").mkdir()  # one here wins
    assert Settings(_env_file=None).cogo_home == Path(".cogo")
    monkeypatch.setenv("COGO_HOME", str(tmp_path / "elsewhere"))
    assert Settings(_env_file=None).cogo_home == tmp_path / "elsewhere"
    monkeypatch.setenv("COGO_HOME", "")  # as copied from .env.example
    assert Settings(_env_file=None).cogo_home == Path(".cogo")


def test_artifact_paths_are_absolute_as_they_are_stored_and_read_elsewhere(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COGO_HOME", ".cogo")
    assert Settings(_env_file=None).artifacts_dir == tmp_path.resolve() / ".cogo" / "artifacts"
