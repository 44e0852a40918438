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
