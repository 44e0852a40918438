-- Quality runs, Q1 scores, gate fixes and secrets.
create table if not exists quality_runs (
  id uuid primary key default gen_random_uuid(),
  repo text not null,
  job_id text references jobs(id),
  tests_passed int not null,
  tests_total int not null,
  lint_errors int not null default 0,
  type_errors int not null default 0,
  coverage real not null default 0,
  q1_score real not null,
  passed boolean generated always as (q1_score >= 0.7) stored,
  created_at timestamptz not null default now()
);

create index if not exists quality_runs_repo_idx on quality_runs (repo, created_at desc);

create table if not exists gate_fixes (
  id uuid primary key default gen_random_uuid(),
  run_id uuid not null references quality_runs(id) on delete cascade,
  severity text not null check (severity in ('blocker', 'major', 'minor')),
  area text not null,
  message text not null,
  fix_job_id text references jobs(id)
);

create table if not exists quality_thresholds (
  repo text primary key,
  threshold real not null default 0.7
);

create table if not exists secrets (
  tenant_id text not null,
  name text not null,
  iv text not null,
  tag text not null,
  ciphertext text not null,
  key_version int not null default 1,
  primary key (tenant_id, name)
);

create unique index if not exists gate_fixes_run_area_uidx on gate_fixes (run_id, area);

create or replace view latest_quality as
select distinct on (repo) repo, q1_score, passed, created_at
from quality_runs
order by repo, created_at desc;
