"""Killing ``run_all`` (SIGKILL to its process group) leaves no notebook kernel and no loky worker behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from tests.conftest import requires_real_data

LONG_GRID = '''from semiad.deep_sad import odds
spec = [m for m in odds.ALL_METHODS if m.label == "Deep SAD"]
odds.run_odds("quick", datasets=["shuttle"], methods=spec, n_jobs=2, device="cpu", progress=False)'''


def _tagged(marker: str) -> list[int]:
    """PIDs of live processes whose environment carries ``marker``."""
    pids = []
    for env in Path("/proc").glob("[0-9]*/environ"):
        try:
            if marker.encode() in env.read_bytes():
                pids.append(int(env.parent.name))
        except OSError:
            continue
    return pids


@pytest.mark.notebook
@requires_real_data
@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
def test_killing_the_batch_process_group_leaves_no_worker(tmp_path):
    from jupyter_client.kernelspec import KernelSpecManager

    if "semiad" not in KernelSpecManager().find_kernel_specs():
        pytest.skip("Jupyter kernel 'semiad' missing: run ./run_all.sh --tests")
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "semiad", "display_name": "Python (semiad)", "language": "python"}
    nb.cells.append(new_code_cell('profile = "quick"\nn_jobs = 2\ndata_dir = None\noutput_dir = None\n'
                                  'device = "cpu"', metadata={"tags": ["parameters"]}))
    nb.cells.append(new_code_cell(LONG_GRID))
    (tmp_path / "notebooks" / "x").mkdir(parents=True)
    nbformat.write(nb, tmp_path / "notebooks" / "x" / "long.ipynb")
    marker = f"SEMIAD_KILL_TEST={uuid.uuid4().hex}"
    key, value = marker.split("=")
    env = {**os.environ, key: value, "SEMIAD_RESULTS_DIR": str(tmp_path / "results")}
    proc = subprocess.Popen([sys.executable, "-m", "semiad.core.batch", "--root", str(tmp_path)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.time() + 120
        while len(_tagged(marker)) < 4 and time.time() < deadline:  # batch, kernel, 2 workers
            time.sleep(1)
        assert len(_tagged(marker)) >= 4, "the grid's workers did not start"
        time.sleep(3)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        deadline = time.time() + 20
        while _tagged(marker) and time.time() < deadline:
            time.sleep(1)
        assert _tagged(marker) == []
    finally:
        for pid in _tagged(marker):
            os.kill(pid, signal.SIGKILL)
