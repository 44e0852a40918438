"""gate_fix as a web page: what a person gets when they click the link in an alert or the dashboard.

Programs keep getting JSON (and Markdown on request); a browser gets this page: the run it
belongs to, each failing job with its failures, its log link and the ranked code locations with
the reason for each. Autoescaped: test names and log text are untrusted.
"""

from __future__ import annotations

from typing import Any

import jinja2

from cogo_pipelines.quality import categories

_ENV = jinja2.Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True, undefined=jinja2.ChainableUndefined)
_PAGE = _ENV.from_string("""\
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>gate_fix {{ fix.id }} · cogo</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 70rem; padding: 0 1rem; color: #111827; }
h1 { font-size: 1.4rem; } h2 { font-size: 1.1rem; margin-top: 2rem; border-top: 1px solid #e5e7eb; padding-top: 1rem; }
table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid #e5e7eb; vertical-align: top; }
code, pre { font: 12px/1.4 ui-monospace, monospace; } pre { background: #f3f4f6; padding: .6rem; overflow-x: auto; white-space: pre-wrap; }
.fail { color: #b91c1c; } .muted { color: #6b7280; } .why { color: #374151; }
</style>
</head>
<body>
{% if fix.source_failure %}
<h1 id="gate-fix-title">gate_fix {{ fix.id }}: <span class="fail">Q1 not evaluated</span>: the {{ fix.source_failure.source }} source failed</h1>
<ul id="source-failure">
  <li>error: <strong class="fail">{{ fix.source_failure.error }}</strong></li>
  <li>check: {{ fix.source_failure.check }}</li>
  <li>window {{ fix.window.start }} .. {{ fix.window.end }}; job types: {{ fix.job_types|join(", ") }}</li>
  <li class="muted">No verdict: nothing was scored or recorded. · <a href="{{ self_url }}?format=json">JSON</a> · <a href="{{ self_url }}?format=markdown">Markdown</a></li>
</ul>
{% else %}
<h1 id="gate-fix-title">gate_fix {{ fix.id }}: <span class="fail">Q1 {{ "%.3f"|format(fix.score) if fix.score is number else "n/a" }}</span>
  (threshold {{ "%.2f"|format(fix.threshold) if fix.threshold is number else "n/a" }})</h1>
<p>{{ fix.message }}</p>
<ul>
  <li>quality run <strong id="quality-run">{{ fix.quality_run_id if fix.quality_run_id is not none else fix.source_run_id }}</strong>
    ({{ fix.source }}), window {{ fix.window.start }} .. {{ fix.window.end }}</li>
  <li>job types: {{ fix.job_types|join(", ") }}{% if fix.target %}, target <code>{{ fix.target }}</code>{% endif %}</li>
  <li>failing jobs: {{ fix.failing_total }} ({{ fix.failing_jobs|length }} listed){% if fix.infra_failed %};
    infrastructure failures, not in Q1: {{ fix.infra_failed }}{% endif %}</li>
  {% if fix.signature %}<li>failure signature <code>{{ fix.signature }}</code></li>{% endif %}
  <li class="muted">{{ fix.knowledge.note }} · <a href="{{ self_url }}?format=json">JSON</a> · <a href="{{ self_url }}?format=markdown">Markdown</a></li>
</ul>
{% for job in fix.failing_jobs %}
<h2 id="job-{{ job.id }}">Job {{ job.id }} <span class="muted">({{ job.type }} on {{ job.executor_id }}, finished {{ job.finished_at }})</span></h2>
<p>
{% if job.target %}target <code>{{ job.target }}</code> · {% endif %}
{% if job.commit %}commit <code>{{ job.commit }}</code> · {% endif %}
{% if job.log_url %}<a class="log" href="{{ job.log_url }}">log</a>{% endif %}
{% if job.command %} · <code>{{ job.command }}</code>{% endif %}
</p>
{% if job.same_error_as %}
<p class="muted">Same error as <a href="#job-{{ job.same_error_as }}">job {{ job.same_error_as }}</a>.</p>
{% else %}
{% if job.failures %}
<ul class="failures">
{% for f in job.failures %}
  <li><strong class="fail">{{ f.name }}</strong>{% if f.file %} <code>{{ f.file }}{% if f.line %}:{{ f.line }}{% endif %}</code>{% endif %}
    {% if f.message %}<pre>{{ f.message }}</pre>{% endif %}</li>
{% endfor %}
</ul>
{% else %}
<pre>{{ job.error_excerpt or "(no error text recorded)" }}</pre>
{% endif %}
{% if job.locations %}
<table class="locations">
<thead><tr><th>#</th><th>path</th><th>symbol</th><th>lines</th><th>why</th></tr></thead>
<tbody>
{% for loc in job.locations %}
<tr><td>{{ loop.index }}</td><td><code>{{ loc.path }}</code></td><td>{{ loc.symbol or "-" }}</td>
<td>{{ loc.start_line }}–{{ loc.end_line }}</td><td class="why">{{ loc.why or loc.score }}</td></tr>
{% endfor %}
</tbody>
</table>
{% else %}
<p class="muted">No code locations: {{ job.locations_note or fix.knowledge.note }}</p>
{% endif %}
{% endif %}
{% else %}
<p>No failing jobs to list: {{ fix.message }}</p>
{% endfor %}
{% for cat in sections if fix[cat.jobs] %}
{% if cat.columns == "rerun" %}
<h2 id="{{ cat.name }}">{{ cat.heading }}</h2>
<ul>
{% for job in fix[cat.jobs] %}
  <li>job {{ job.id }} ({{ job.type }} on {{ job.executor_id }}){% if job.target %}, target <code>{{ job.target }}</code>{% endif %}:
    {% for t in job.tests %}<strong class="fail">{{ t }}</strong>{{ ", " if not loop.last }}{% else %}<span class="muted">no test named in the failed run's log</span>{% endfor %}
    <ul>{% for run in job.runs %}<li>run {{ run.attempt }}: {{ run.outcome }} (exit {{ run.exit_code }}){% if run.summary %}: {{ run.summary.failed }} failed, {{ run.summary.passed }} passed{% endif %}</li>{% endfor %}</ul></li>
{% endfor %}
</ul>
{% else %}
<h2>{{ cat.heading }}</h2>
<ul>
{% for job in fix[cat.jobs] %}
  <li>job {{ job.id }} ({{ job.type }} on {{ job.executor_id }}): {% if job.reason %}<strong>{{ job.reason }}</strong> — {% endif %}{{ job.error }}</li>
{% endfor %}
</ul>
{% endif %}
{% endfor %}
{% endif %}
</body>
</html>
""")


def render_html(content: dict[str, Any], *, self_url: str) -> str:
    return _PAGE.render(fix=content, self_url=self_url, sections=categories.report_order())
