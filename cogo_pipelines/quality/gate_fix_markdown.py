"""gate_fix as Markdown: what a person reads in CI, in a chat alert's link or next to the JSON.

Build text (test names, messages, log excerpts) is untrusted and shown literally: Markdown
specials escaped, fences longer than any backtick run they hold.
"""

from __future__ import annotations

import re
from typing import Any

import jinja2

from cogo_pipelines.quality import categories

# ChainableUndefined: a stored artifact missing a field (an older or hand-made row) renders
# that field empty instead of failing, so the sidecar can always serve what is stored.
MARKDOWN = jinja2.Environment(autoescape=False, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
                              undefined=jinja2.ChainableUndefined)
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+!|<>~])")
_BACKTICKS = re.compile(r"`+")


def _md_text(value: Any) -> str:
    """Text from a build (a test's name, an error line) as literal Markdown: its ``**``, links,
    HTML and headings shown, not rendered (a test name held ``<script>`` and ``**``)."""
    return _MARKDOWN_SPECIALS.sub(r"\\\1", " ".join(str(value).split()))


def _fence(value: Any) -> str:
    """A code fence longer than any run of backticks in ``value``: a log line of three backticks
    closed the excerpt's fence, and what followed rendered as the artifact's own Markdown."""
    return "`" * max(3, 1 + max((len(m) for m in _BACKTICKS.findall(str(value or ""))), default=0))


def _code(value: Any) -> str:
    """``value`` as an inline code span that its own backticks cannot end."""
    text = " ".join(str(value).split())
    ticks = "`" * (1 + max((len(m) for m in _BACKTICKS.findall(text)), default=0))
    return f"{ticks} {text} {ticks}" if "`" in text else f"`{text}`"


MARKDOWN.filters.update(md=_md_text, fence=_fence, code=_code)
MARKDOWN_TEMPLATE = MARKDOWN.from_string("""\
# gate_fix {{ fix.id }}: Q1 {{ "%.3f"|format(fix.score) if fix.score is number else "n/a" }} (threshold {{ "%.2f"|format(fix.threshold) if fix.threshold is number else "n/a" }})

{{ fix.message }}

- source: {{ fix.source }}, quality run: {{ fix.quality_run_id if fix.quality_run_id is not none else fix.source_run_id }}
- window: {{ fix.window.start }} .. {{ fix.window.end }}
- job types: {{ fix.job_types|join(", ") }}{% if fix.target %}, target: {{ fix.target }}{% endif %}

- failing jobs: {{ fix.failing_total }} ({{ fix.failing_jobs|length }} listed)
{% for cat in categories if cat.summary and fix[cat.name] %}
- {{ cat.summary.format(n=fix[cat.name]) }}
{% endfor %}
- knowledge: {{ fix.knowledge.note }}
{% if fix.signature %}
- failure signature: `{{ fix.signature }}`
{% endif %}

{% for job in fix.failing_jobs %}
## Job {{ job.id }} ({{ job.type }} on {{ job.executor_id }}, finished {{ job.finished_at }})

{% if job.target %}- target: {{ job.target|code }}
{% endif %}
{% if job.commit %}- commit: {{ job.commit|code }}
{% endif %}
{% if job.log_url %}- log: {{ job.log_url }}
{% endif %}
{% if job.command %}- command: {{ job.command|code }}
{% endif %}

{% if job.same_error_as %}
Same error as job {{ job.same_error_as }} (failures and locations above).

{% else %}
{% if job.failures %}
Failing ({{ job.failures|length }}{% if job.failures_total and job.failures_total > job.failures|length %} listed of {{ job.failures_total }} the build reported{% endif %}{% if job.parsers %}, read by {{ job.parsers|join(", ") }}{% endif %}{% if job.log_cut %}; read from the log's last {{ job.log_cut }} characters{% endif %}):

{% for f in job.failures %}
- **{{ f.name|md }}**{% if f.file %} ({{ (f.file ~ (":" ~ f.line if f.line else ""))|code }}){% endif %}{% if f.message %}: {{ f.message.splitlines()[0]|md }}{% endif %}

{% endfor %}

{% endif %}
{{ job.error_excerpt|fence }}text
{{ job.error_excerpt or "(no error text recorded)" }}
{{ job.error_excerpt|fence }}

{% if job.locations %}
| # | path | symbol | lines | why |
|---|------|--------|-------|-----|
{% for loc in job.locations %}
| {{ loop.index }} | `{{ loc.path }}` | {{ loc.symbol or "-" }} | {{ loc.start_line }}-{{ loc.end_line }} | {{ loc.why }} |
{% endfor %}
{% else %}
No code locations: {{ job.locations_note or fix.knowledge.note }}
{% endif %}
{% endif %}

{% else %}
No failing jobs to list: {{ fix.message }}
{% endfor %}
{% for cat in sections if fix[cat.jobs] %}
## {{ cat.heading }}

{% if cat.columns == "rerun" %}
{% for job in fix[cat.jobs] %}
- job {{ job.id }} ({{ job.type }} on {{ job.executor_id }}){% if job.target %}, target {{ job.target|code }}{% endif %}: {% for t in job.tests %}**{{ t|md }}**{{ ", " if not loop.last }}{% else %}(no test named in the failed run's log){% endfor %}

{% for run in job.runs %}
  - run {{ run.attempt }}: {{ run.outcome }} (exit {{ run.exit_code }}){% if run.summary %}: {{ run.summary.failed }} failed, {{ run.summary.passed }} passed{% endif %}{% if run.failed_tests %}: {% for t in run.failed_tests %}{{ t|md }}{{ ", " if not loop.last }}{% endfor %}{% endif %}

{% endfor %}
{% endfor %}

{% else %}
{% for job in fix[cat.jobs] %}
- job {{ job.id }} ({{ job.type }} on {{ job.executor_id }}): {% if job.reason %}{{ job.reason }}: {% endif %}{{ job.error }}
{% endfor %}
{% if not loop.last %}

{% endif %}
{% endif %}
{% endfor %}
""")



SOURCE_FAILURE_TEMPLATE = MARKDOWN.from_string("""\
# gate_fix {{ fix.id }}: Q1 not evaluated: the {{ fix.source_failure.source }} source failed

- source: {{ fix.source_failure.source }}
- error: {{ fix.source_failure.error|md }}
- check: {{ fix.source_failure.check|md }}
- window: {{ fix.window.start }} .. {{ fix.window.end }}
- job types: {{ fix.job_types|join(", ") }}{% if fix.target %}, target: {{ fix.target }}{% endif %}

No verdict: the job history was not read, so nothing was scored or recorded as a point of the Q1
trend (the gate's exit code is 2). Fix what the check names and run the gate again.
""")


def render_markdown(content: dict[str, Any]) -> str:
    template = SOURCE_FAILURE_TEMPLATE if content.get("source_failure") else MARKDOWN_TEMPLATE
    return template.render(fix=content, categories=categories.table(), sections=categories.report_order())
