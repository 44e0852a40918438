"""File summaries: written by every index run, embedded by whoever holds the summary model.

The summary model is a sentence transformer (``SUMMARY_MODEL``, default ``minilm``, the shipped
all-MiniLM-L6-v2; ``off`` turns summaries off), run by ONNX Runtime once exported
(``indexing/transformer_onnx.py``: ~2 s and ~200 MB to load; on torch ~10 s and ~500 MB), so
the processes that pay for it are the ones that stay up or run long:

- ``cogo index --summaries`` and Dagster's ``file_summaries`` asset embed a repo's summaries at
  the end of the run (``embed_summaries``);
- the MCP server and the sidecar hold a ``SummaryEncoder``: it loads the model in the background
  at start, embeds whatever summaries lack a vector (a plain ``cogo index`` leaves them so, one
  edited file included), and then embeds each question so that search adds the summary list.

A plain ``cogo index`` writes the texts only (milliseconds) and ``cogo search`` (one short
process, ≤ 0.5 s) never loads the transformer: it ranks as before. See ``store/file_summaries.py``
for what the list adds and docs/RAG.md for the figures.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

import psycopg

from cogo_pipelines.indexing import embedding, transformer_onnx
from cogo_pipelines.settings import get_settings
from cogo_pipelines.store import file_summaries

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]
BATCH = 16  # small: on torch a question waits for the batch in progress (ONNX Runtime runs both at once)
PAGE = 1024  # summaries read per query while embedding (their texts held in memory at once)
RECHECK_SECONDS = 30.0  # how often a warm process looks for summaries an index run left unembedded
OFF = frozenset({"off", "none", "0", "false"})
DEFAULT_MODEL = embedding.TRANSFORMER_NAME  # the shipped all-MiniLM-L6-v2


def model_name() -> str | None:
    """The summary model's name (``SUMMARY_MODEL``; blank, as copied from .env.example, is the
    default ``minilm``), None when summaries are off."""
    name = (get_settings().summary_model or "").strip() or DEFAULT_MODEL
    return None if name.lower() in OFF else name


def model_key(name: str | None = None) -> str | None:
    name = name or model_name()
    return embedding.model_key(name) if name else None


@dataclass
class SummaryResult:
    files: int = 0  # summaries the repo has
    written: int = 0  # texts new or changed (their vectors cleared)
    embedded: int = 0  # vectors made by this run
    pending: int = 0  # summaries still without a vector of the summary model


def summarize_stage(conn: psycopg.Connection, repo: str, changed: list[str] | None = None, *, embed: bool = False,
                    progress: Progress | None = None) -> SummaryResult:
    """The summaries of the files the chunk stage rewrote (``changed``; None: all), and with
    ``embed`` their vectors. Committed before the vectors are made: search serves meanwhile."""
    out = SummaryResult()
    key = model_key()
    if key is None:
        if progress:
            progress("summary", 0, 0)
        return out
    out.written = file_summaries.sync(conn, repo, changed)
    if not conn.autocommit:
        conn.commit()
    if embed:
        out.embedded = embed_summaries(conn, repo=repo, progress=progress)
    out.files, with_vector = file_summaries.counts(conn, key, repo)
    out.pending = out.files - with_vector
    if progress and not embed:
        progress("summary", 0, 0)
    return out


def embed_summaries(conn: psycopg.Connection, repo: str | None = None, progress: Progress | None = None,
                    lock: AbstractContextManager | None = None, stop: threading.Event | None = None) -> int:
    """Vectors for the summaries of ``repo`` (None: every repo) that lack one of the summary
    model, batch by batch, each committed (a killed run keeps what it embedded); returns how
    many were stored. ``lock`` is held around each batch's encode (the warm encoder shares its
    model with questions); ``stop`` ends the work between batches."""
    name, key = model_name(), model_key()
    if name is None or key is None:
        return 0
    summaries, embedded = file_summaries.counts(conn, key, repo)
    total, done, stored = summaries - embedded, 0, 0
    while stop is None or not stop.is_set():
        # a page at a time, in memory: what this loop stored drops out of the next page's reading
        page = file_summaries.pending(conn, key, repo, limit=PAGE)
        stored_before = stored
        for start in range(0, len(page), BATCH):
            if stop is not None and stop.is_set():
                break
            batch = page[start : start + BATCH]
            with lock or nullcontext():
                vectors = embedding.encode([row.text for row in batch], model=name)
            stored += file_summaries.save(conn, key, batch, vectors)
            if not conn.autocommit:
                conn.commit()
            done += len(batch)
            if progress:
                progress("summary", done, max(total, done))
        if len(page) < PAGE or stored == stored_before:  # the last page; or every text changed meanwhile:
            break  # the next run (or the warm fill's next look) takes those
    if not done and progress:
        progress("summary", 0, 0)
    return stored


class SummaryEncoder:
    """The summary model held by a process that stays up. ``start`` loads it in the background
    and then keeps the store's summaries embedded (every ``RECHECK_SECONDS``); ``vector`` embeds
    a question once the model is loaded (None before, and when summaries are off), so a search
    never waits for the load: it ranks without the summary list meanwhile. It is the
    ``knowledge.SummaryModel`` that search takes."""

    def __init__(self, connect: Callable[[], AbstractContextManager[psycopg.Connection]] | None = None) -> None:
        """``connect`` opens the fill's connection, autocommit (the default): each vector is its
        own write, so the fill never holds a row an index run is rewriting while it waits for
        another (no deadlock with ``file_summaries.sync``), nor a pool's connection for minutes."""
        from cogo_pipelines.store import db

        self._connect = connect or (lambda: db.connect(autocommit=True))
        self._name, self._key = model_name(), model_key()
        self._model_lock = threading.Lock()
        self._concurrent = False  # the loaded model encodes in several threads at once
        self._ready = threading.Event()
        self._stop = threading.Event()
        self._wake = threading.Event()  # set by a search that found summaries without vectors
        self._thread: threading.Thread | None = None

    @property
    def enabled(self) -> bool:
        return self._name is not None

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    def start(self) -> SummaryEncoder:
        if self.enabled and self._thread is None:
            self._thread = threading.Thread(target=self._run, name="cogo-summary-encoder", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def notice_incomplete(self) -> None:
        """A search found summaries without vectors (an index run since the last fill): fill
        now rather than at the next look, so the list is back within about a second of an edit."""
        self._wake.set()

    def wait_ready(self, timeout: float) -> bool:
        return self._ready.wait(timeout)

    @property
    def key(self) -> str:
        return self._key or ""

    def vector(self, text: str) -> list[float] | None:
        """``text`` embedded by the summary model; None until it is loaded (or when off)."""
        if not self.ready or self._key is None:
            return None
        # ONNX Runtime runs a question beside the fill's batch; torch's model takes one at a time
        with nullcontext() if self._concurrent else self._model_lock:
            return embedding.encode([text], model=self._name)[0].tolist()

    def fill(self) -> int:
        """Embed what lacks a vector now; returns how many were stored."""
        with self._connect() as conn:
            return embed_summaries(conn, lock=self._model_lock, stop=self._stop)

    def _run(self) -> None:
        try:
            with self._model_lock:
                model = embedding.get_model(self._name)
            self._concurrent = isinstance(model, transformer_onnx.Encoder)
            self._ready.set()
        except Exception as exc:  # noqa: BLE001 — search goes on without the list; say why once
            log.warning("summary model %s not loaded, search ranks without file summaries: %s", self._name, exc)
            return
        while not self._stop.is_set():
            try:
                stored = self.fill()
                if stored:
                    log.info("embedded %d file summaries", stored)
            except Exception as exc:  # noqa: BLE001 — a store that restarts: try again later
                log.warning("file summaries not embedded: %s", exc)
            self._wake.wait(RECHECK_SECONDS)
            self._wake.clear()
