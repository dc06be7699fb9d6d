"""Shared fixtures of the Python tests (tests/python).

The package under test is the one the build assembled (PYTHONPATH=<build>/python, set by
tests/python/CMakeLists.txt). Tests that compare with an outside oracle (torch, gensim, fasttext)
take it through ``oracle(name)``: skipped when it is missing, or failed when
EMBEDKIT_REQUIRE_ORACLES=1 (CI), as the C++ oracle tests are.
"""

import importlib
import os

import pytest


def oracle(name):
    """Imports an oracle module, or skips the test (fails under EMBEDKIT_REQUIRE_ORACLES=1)."""
    try:
        return importlib.import_module(name)
    except ImportError as e:
        if os.environ.get("EMBEDKIT_REQUIRE_ORACLES") == "1":
            pytest.fail(f"oracle {name} is required (EMBEDKIT_REQUIRE_ORACLES=1) but missing: {e}")
        pytest.skip(f"oracle {name} is not installed")


@pytest.fixture
def torch():
    return oracle("torch")


@pytest.fixture
def gensim():
    return oracle("gensim")


@pytest.fixture
def fasttext():
    return oracle("fasttext")
