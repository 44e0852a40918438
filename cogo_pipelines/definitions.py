"""Dagster entry point (``workspace.yaml``, ``[tool.dg]``, ``dagster job execute -m``).

Everything under ``cogo_pipelines/defs/`` is loaded by Dagster's own folder loader, one
subfolder per concern (``knowledge/``, ``quality/``, ``shared/``), so adding a concern never
edits this file.
"""

from pathlib import Path

import dagster as dg

defs = dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
