import hsl_embedding  # the oracle is a dev dependency: its absence must fail, not skip
import pytest
import torch


def pytest_collection_modifyitems(config, items):
    """``gpu`` tests run only where CUDA is available; everywhere else they are skipped, said so."""
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs CUDA (gpu marker)")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def gen():
    return torch.Generator().manual_seed(1234)


@pytest.fixture(scope="session")
def oracle():
    return hsl_embedding.Embedding()
