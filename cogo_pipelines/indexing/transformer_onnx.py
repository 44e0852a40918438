"""A sentence transformer run by ONNX Runtime: the same vectors, without torch at run time.

Why: a warm process (the MCP server, the sidecar) embeds every question with the summary model
(``pipeline/summaries.py``). Through sentence-transformers a short question costs ~20 ms of a
50 ms search budget, mostly torch's per-operator overhead, and the process carries torch (~500 MB,
~10 s to import and load). The same network exported once to ONNX and run by ONNX Runtime on one
thread takes ~7 ms per question, loads in about a second, and gives the same vectors (cosine ≥
0.99999 against torch, checked at export; int8 quantisation was measured too and dropped: 3 ms,
but cosine .92-.97, another model in all but name).

The export needs torch (``torch.onnx``, the TorchScript exporter) and happens once per model, at
``make setup`` or at the first encode that wants it, into ``$COGO_HOME/models/onnx/<key>/``; a
model the export cannot reproduce (another pooling, a failed check, ``onnx`` missing) keeps the
torch path, said once in the log. Only models made of Transformer → Pooling (mean or CLS) →
optional Normalize are exported: what ``modules.json`` of a sentence-transformers folder says.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from cogo_pipelines.settings import get_settings

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)

RECIPE = "onnx-opset17-fp32-v1"  # how ``export`` makes the file; a changed recipe exports again
OPSET = 17
MIN_COSINE = 0.99999  # the export's check against torch: below it the file is not kept
# texts the check encodes: one word, a question, a batch that pads, one past the token limit
_PROBES = ("x", "how does the job queue lease a claim", "def f(a, b):\n    return a + b  # sum " * 3,
           "retry backoff " * 300)  # fmt: skip
_SINGLE = 2  # up to this many texts run on the one-thread session (a question: no pool hand-off)
_guard = threading.Lock()


class Unsupported(Exception):
    """The model is not one this module can export and check (the torch path serves it)."""


def folder(home: Path, key: str) -> Path:
    return home / "models" / "onnx" / key.replace(":", "-").replace("/", "-")


def _layout(source: Path) -> tuple[str, int, bool]:
    """(pooling, max tokens, normalise) of a sentence-transformers folder, or ``Unsupported``."""
    try:
        modules = json.loads((source / "modules.json").read_text())
        kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
        pooling = json.loads((source / next(m["path"] for m in modules if m["type"].endswith("Pooling"))
                              / "config.json").read_text())  # fmt: skip
        max_tokens = int(json.loads((source / "sentence_bert_config.json").read_text())["max_seq_length"])
    except (OSError, ValueError, KeyError, StopIteration, TypeError) as exc:
        raise Unsupported(f"{source}: not a sentence-transformers folder ({exc})") from None
    if kinds not in (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"]):
        raise Unsupported(f"{source}: modules {kinds}")
    modes = [k for k, v in pooling.items() if k.startswith("pooling_mode_") and v]
    if modes not in (["pooling_mode_mean_tokens"], ["pooling_mode_cls_token"]):
        raise Unsupported(f"{source}: pooling {modes}")
    return modes[0].removeprefix("pooling_mode_").removesuffix("_tokens").removesuffix("_token"), max_tokens, \
        kinds[-1] == "Normalize"


def is_exported(target: Path) -> bool:
    try:
        return json.loads((target / "cogo.json").read_text()).get("recipe") == RECIPE and \
            (target / "model.onnx").is_file()
    except (OSError, ValueError):
        return False


def export(source: str, target: Path) -> Path:
    """Export the sentence transformer at ``source`` into ``target`` (atomically: a folder
    renamed into place once checked), unless it is there already. Needs torch and ``onnx``."""
    if is_exported(target):
        return target
    pooling, max_tokens, normalize = _layout(Path(source))
    import torch  # deferred: only the export needs it
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(source, device="cpu")
    network = model[0].auto_model.eval()
    if hasattr(network, "set_attn_implementation"):
        # eager attention: a traced sdpa may keep the tracing batch's padding mask as a constant
        # (wrong vectors for padded batches, seen with older transformers; the check below would refuse it)
        network.set_attn_implementation("eager")
    names = ["input_ids", "attention_mask"] + (
        ["token_type_ids"] if "token_type_ids" in network.forward.__code__.co_varnames else [])

    class Hidden(torch.nn.Module):  # the last hidden state: pooling is done in numpy, as here
        def __init__(self) -> None:
            super().__init__()
            self.network = network

        def forward(self, *inputs):
            return self.network(**dict(zip(names, inputs, strict=True))).last_hidden_state

    sample = model.tokenizer(["a question to trace", "two"], return_tensors="pt", padding=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".export-", dir=target.parent))
    try:
        import warnings

        with warnings.catch_warnings(), torch.inference_mode():
            warnings.simplefilter("ignore")  # the tracer's notes on constants it keeps (none matter here)
            torch.onnx.export(Hidden(), tuple(sample[n] for n in names), str(scratch / "model.onnx"),
                              input_names=names, output_names=["hidden"], opset_version=OPSET, dynamo=False,
                              dynamic_axes={n: {0: "batch", 1: "tokens"} for n in [*names, "hidden"]})  # fmt: skip
        shutil.copy(Path(source) / "tokenizer.json", scratch / "tokenizer.json")
        (scratch / "cogo.json").write_text(json.dumps({
            "recipe": RECIPE, "source": str(source), "inputs": names, "pooling": pooling,
            "max_tokens": max_tokens, "normalize": normalize, "torch": torch.__version__}))  # fmt: skip
        reference = model.encode(list(_PROBES), normalize_embeddings=True, convert_to_numpy=True)
        got = Encoder(str(scratch)).encode(_PROBES)
        cosine = float(min((reference * got).sum(axis=1) / (
            (reference * reference).sum(axis=1) ** 0.5 * (got * got).sum(axis=1) ** 0.5)))
        if cosine < MIN_COSINE:
            raise Unsupported(f"{source}: the ONNX export gives other vectors (cosine {cosine:.6f})")
        try:
            scratch.rename(target)
        except OSError:
            if not is_exported(target):  # not another process's export, made meanwhile: say why
                raise
        return target
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


class Encoder:
    """An exported folder loaded into ONNX Runtime: ``encode`` gives the vectors the
    sentence-transformers model gives. Thread-safe (ONNX Runtime's ``run`` is): a question does
    not wait for a batch another thread is encoding."""

    def __init__(self, path: str) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        meta = json.loads((Path(path) / "cogo.json").read_text())
        self._inputs, self._pooling, self._normalize = meta["inputs"], meta["pooling"], meta["normalize"]
        self._tokenizer = Tokenizer.from_file(str(Path(path) / "tokenizer.json"))
        self._tokenizer.enable_truncation(int(meta["max_tokens"]))
        self._tokenizer.enable_padding()  # to the batch's longest (the file's own: a fixed 128)

        def session(threads: int):
            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            # idle pool threads sleep instead of spinning: the store's server shares these cores
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            return onnxruntime.InferenceSession(str(Path(path) / "model.onnx"), options,
                                                providers=["CPUExecutionProvider"])  # fmt: skip

        # one thread for a question (handing ~10 tokens to a pool costs more than it saves),
        # every core for an index run's batches
        self._single = session(1)
        self._batch = session(min(4, os.cpu_count() or 1))

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Normalised float32 vectors, one row per text, in batches of texts of like length
        (as sentence-transformers does: a batch pads to its longest)."""
        import numpy as np

        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        vectors = np.concatenate([self._batch_vectors([texts[i] for i in order[start:start + batch_size]])
                                  for start in range(0, len(order), batch_size)])  # fmt: skip
        out = np.empty_like(vectors)
        out[order] = vectors  # back in the texts' order
        return out

    def _batch_vectors(self, texts: list[str]) -> np.ndarray:
        import numpy as np

        encoded = self._tokenizer.encode_batch(texts)
        feed = {"input_ids": np.array([e.ids for e in encoded], dtype=np.int64),
                "attention_mask": np.array([e.attention_mask for e in encoded], dtype=np.int64),
                "token_type_ids": np.array([e.type_ids for e in encoded], dtype=np.int64)}  # fmt: skip
        session = self._single if len(texts) <= _SINGLE else self._batch
        hidden = session.run(None, {name: feed[name] for name in self._inputs})[0]
        if self._pooling == "cls":
            vectors = hidden[:, 0]
        else:
            mask = feed["attention_mask"][..., None].astype(np.float32)
            vectors = (hidden * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
        if self._normalize:
            vectors = vectors / np.clip(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12, None)
        return np.asarray(vectors, dtype=np.float32)


def encoder(source: str, key: str) -> Encoder | None:
    """The ONNX Runtime encoder of the sentence transformer at ``source`` (``key``: its cache
    key), exported on first use; None where it cannot be (the caller uses torch). Either answer
    is kept for the process: a model that cannot be exported is tried once, not at every batch."""
    return _encoder_at(source, str(folder(get_settings().cogo_home.resolve(), key)))


@lru_cache(maxsize=8)
def _encoder_at(source: str, target: str) -> Encoder | None:
    try:
        if not is_exported(Path(target)):
            with _guard:
                export(source, Path(target))
        return Encoder(target)
    except Unsupported as exc:
        reason = str(exc)
    except Exception as exc:  # noqa: BLE001 — onnx missing, an exporter that fails: torch still serves
        reason = f"{type(exc).__name__}: {exc}"
    log.warning("embedding model %s runs on torch, not ONNX Runtime: %s", source, reason)
    return None


def main() -> None:
    """``make setup``: export the shipped MiniLM once, so no warm process waits for it."""
    from cogo_pipelines.indexing import embedding

    name = embedding.model_name(embedding.TRANSFORMER_NAME)
    home = get_settings().cogo_home.resolve()
    target = export(name, folder(home, embedding.model_key(name)))
    (home / "models" / "onnx" / "exported.txt").write_text(f"{target}\n")
    print(f"exported {name} to {target}")


if __name__ == "__main__":
    main()
