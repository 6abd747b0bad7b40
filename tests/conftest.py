import hsl_embedding  # the oracle is a dev dependency: its absence must fail, not skip
import pytest
import torch


@pytest.fixture
def gen():
    return torch.Generator().manual_seed(1234)


@pytest.fixture(scope="session")
def oracle():
    return hsl_embedding.Embedding()
