import pytest

from nnforge import config


@pytest.fixture(autouse=True)
def one_kernel_thread():
    """The tuner tests train many tiny models, where two OpenMP threads on a busy machine wait
    for each other far longer than the work takes: run them on one thread."""
    before = config.get_num_threads()
    config.set_num_threads(1)
    yield
    config.set_num_threads(before)
