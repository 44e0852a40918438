"""The model wrapper: dimensions, normalisation, one load per process."""

from __future__ import annotations

import numpy as np
import pytest

from cogo_pipelines.indexing import embedding


@pytest.mark.slow  # loads the model and embeds the sample once for the session (~15-30 s)
def test_vectors_are_normalised_384_dims_and_the_model_loads_once(sample_vectors):
    vectors = embedding.encode(["claim the next job", "lease heartbeat", ""])
    assert vectors.shape == (3, embedding.DIMENSIONS) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert embedding.get_model() is embedding.get_model()
    similar = embedding.encode(["renew the lease of a job", "the lease of a job is renewed"])
    assert float(similar[0] @ similar[1]) > float(vectors[0] @ vectors[2])
    assert embedding.encode([]).shape == (0, embedding.DIMENSIONS)
