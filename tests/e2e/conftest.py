import pytest
from e2e_stack import start_stack
from webdriver import Browser


@pytest.fixture(scope="session")
def stack():
    s = start_stack()
    yield s
    s.stop()


@pytest.fixture
def browser():
    b = Browser()
    yield b
    b.quit()
