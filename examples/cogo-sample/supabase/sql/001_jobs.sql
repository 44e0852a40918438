-- Jobs queue, leases and claim function for cogo runners.
create extension if not exists pgcrypto;

create table if not exists jobs (
  id text primary key,
  type text not null,
  status text not null default 'queued'
    check (status in ('queued', 'claimed', 'running', 'succeeded', 'failed', 'dead')),
  priority int not null default 0,
  payload jsonb not null default '{}'::jsonb,
  attempts int not null default 0,
  lease_owner text,
  lease_expires_at timestamptz,
  run_after timestamptz,
  created_at timestamptz not null default now()
);

create index if not exists jobs_claim_idx on jobs (status, priority desc, created_at);

create table if not exists runners (
  id text primary key,
  hostname text not null,
  executor text not null default 'dev-pc',
  last_heartbeat_at timestamptz not null default now()
);

-- Claim the next queued job for a runner; concurrent callers skip locked rows.
create or replace function claim_job(p_runner text, p_lease_seconds int default 60)
returns setof jobs
language plpgsql as $$
declare
  v_id text;
begin
  select id into v_id from jobs
  where status = 'queued' and (run_after is null or run_after <= now())
  order by priority desc, created_at
  for update skip locked
  limit 1;

  if v_id is null then
    return;
  end if;

  update runners set last_heartbeat_at = now() where id = p_runner;

  return query
  update jobs
     set status = 'claimed',
         lease_owner = p_runner,
         lease_expires_at = now() + make_interval(secs => p_lease_seconds),
         attempts = attempts + 1
   where id = v_id
  returning *;
end;
$$;

-- Re-queue jobs whose lease expired.
create or replace function reap_expired_leases() returns int
language plpgsql as $$
declare
  v_count int;
begin
  update jobs set status = 'queued', lease_owner = null
   where status = 'claimed' and lease_expires_at < now();
  get diagnostics v_count = row_count;
  return v_count;
end;
$$;
