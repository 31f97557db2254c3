"""pytest setup for the neardup Python package.

The suite tests the package of a CMake build tree: NEARDUP_BUILD_DIR
(default build/release) holds python/neardup (the package), python/
python_signature_oracle and examples/neardup (the CLI). With
NEARDUP_TEST_INSTALLED=1 it imports the installed package instead.
"""
import os
import pathlib
import sys

import pytest

SOURCE_DIR = pathlib.Path(__file__).resolve().parents[2]
BUILD_DIR = pathlib.Path(os.environ.get("NEARDUP_BUILD_DIR", SOURCE_DIR / "build" / "release")).resolve()

if os.environ.get("NEARDUP_TEST_INSTALLED") != "1":
    sys.path.insert(0, str(BUILD_DIR / "python"))


def _built(path: pathlib.Path) -> pathlib.Path:
    if not path.exists():
        pytest.fail(f"{path} is not built (build the neardup_python target)")
    return path


@pytest.fixture(scope="session")
def source_dir() -> pathlib.Path:
    return SOURCE_DIR


@pytest.fixture(scope="session")
def sample() -> pathlib.Path:
    return SOURCE_DIR / "examples" / "data" / "sample.jsonl"


@pytest.fixture(scope="session")
def cli() -> pathlib.Path:
    return _built(BUILD_DIR / "examples" / "neardup")


@pytest.fixture(scope="session")
def oracle() -> pathlib.Path:
    return _built(BUILD_DIR / "python" / "python_signature_oracle")
