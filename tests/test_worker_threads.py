"""Worker pool processes share the machine's cores for embedding instead of each taking all of them."""

from __future__ import annotations

import os
from types import SimpleNamespace

import pytest
import torch

from embeddings.embedder import threads_per_process
from settings import get_settings
from workers import celery_app


def test_threads_per_process_shares_the_cores_or_takes_the_setting():
    assert threads_per_process(0, processes=2, cores=2) == 1
    assert threads_per_process(0, processes=1, cores=8) == 8
    assert threads_per_process(0, processes=3, cores=8) == 2
    assert threads_per_process(0, processes=16, cores=2) == 1  # never zero
    assert threads_per_process(0, processes=0, cores=4) == 4
    assert threads_per_process(3, processes=2, cores=2) == 3  # an explicit setting wins


@pytest.fixture
def restore_threads():
    before = torch.get_num_threads()
    pool = celery_app._pool_processes
    yield
    torch.set_num_threads(before)
    celery_app._pool_processes = pool


def test_each_pool_process_embeds_on_its_share_of_the_cores(restore_threads):
    configured = get_settings().embedding_threads
    celery_app._remember_pool_size(sender=SimpleNamespace(concurrency=2))
    celery_app._share_cores()
    assert torch.get_num_threads() == threads_per_process(configured, 2, os.cpu_count())
    celery_app._remember_pool_size(sender=SimpleNamespace(concurrency=None))
    celery_app._share_cores()
    assert torch.get_num_threads() == threads_per_process(configured, 1, os.cpu_count())


def test_threads_chosen_before_torch_loads_apply_when_the_model_loads():
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from embeddings.embedder import use_threads, get_embedder\n"
        "use_threads(1)\n"
        "assert 'torch' not in sys.modules, 'choosing threads must not import torch'\n"
        "get_embedder()\n"
        "import torch\n"
        "print(torch.get_num_threads())\n"
    )
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    done = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "1"
