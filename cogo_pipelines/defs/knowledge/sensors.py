"""Re-index a repo partition when the repo changed since it was last indexed.

The state recorded by the partition's last ``source_files`` materialisation (``cogo index`` and
Dagster runs alike record ``pipeline/repo_state``: git HEAD + working-tree status, or the file
content digest) is compared with the repo's state now; a difference requests ``index_job`` for
that partition, keyed by the new state so one change is indexed once. Starts STOPPED: turning
it on is a deployment's choice.
"""

import dagster as dg

from cogo_pipelines.defs.knowledge.assets import index_job
from cogo_pipelines.defs.knowledge.partitions import latest_metadata, root_of
from cogo_pipelines.defs.knowledge.resources import CodeRepoResource
from cogo_pipelines.pipeline.dagster_events import REPO_PARTITIONS, STATE_KEY
from cogo_pipelines.pipeline.repo_state import repo_state


@dg.sensor(job=index_job, minimum_interval_seconds=300, default_status=dg.DefaultSensorStatus.STOPPED)
def repo_change_sensor(context: dg.SensorEvaluationContext, code_repo: CodeRepoResource):
    """One ``index_job`` run per repo partition whose HEAD or content changed."""
    requests, skipped = [], []
    for name in context.instance.get_dynamic_partitions(REPO_PARTITIONS):
        root = root_of(context.instance, name, code_repo)
        state = repo_state(root) if root is not None else None
        if state is None:
            skipped.append(f"{name}: folder unknown or gone")
            continue
        if latest_metadata(context.instance, "source_files", name).get(STATE_KEY) == state:
            continue
        requests.append(dg.RunRequest(run_key=f"repo-change-{name}-{state}", partition_key=name,
                                      tags={"cogo/repo": name, "cogo/repo_state": state[:60]}))
    for reason in skipped:
        context.log.info(reason)
    return requests or dg.SkipReason("no repo changed since it was indexed")


defs = dg.Definitions(sensors=[repo_change_sensor])
