"""The cyclic garbage collector paused around work that only makes objects which outlive it.

Importing the CLI's libraries (pydantic, typer, psycopg) and building a static graph each make
hundreds of thousands of objects that live until the process ends. A young-generation collection
walks every tracked object made since the last one, so with the collector on they are walked
again and again for nothing (~0.02 s of a ``cogo graph``'s serial start-up), and the first
collection after a graph is built walks the whole graph once more (another ~0.02 s). Paused, they
are walked by none: when the pause ends they go straight to the oldest generation (``gc.freeze``
then ``gc.unfreeze``), which only a full collection visits. Reference counting frees everything as
before; only cycles made inside the pause wait for a full collection.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if gc.get_freeze_count() == 0:  # unfreezing would also release a caller's frozen heap
            gc.freeze()
            gc.unfreeze()
        if enabled:
            gc.enable()
