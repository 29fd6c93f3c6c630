import pytest
from e2e_stack import start_stack


@pytest.fixture(scope="session")
def stack():
    s = start_stack()
    yield s
    s.stop()
