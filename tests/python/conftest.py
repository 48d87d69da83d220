"""Fixtures of the Python module's tests (run by ctest: python_*, tests/CMakeLists.txt, with
PYTHONPATH=<build>/python and MNSIM_BINARY=<build>/mnsim)."""

import os
import pathlib
import subprocess
import tomllib

import pytest

HERE = pathlib.Path(__file__).resolve().parent
TINY = HERE / "tiny.toml"


@pytest.fixture(scope="session")
def mnsim_binary():
    b = os.environ.get("MNSIM_BINARY")
    if not b or not os.path.isfile(b):
        pytest.fail("MNSIM_BINARY must name the mnsim program (ctest sets it)")
    return b


def cli(binary, *args, check=True):
    """Runs the mnsim program; returns the CompletedProcess (text)."""
    r = subprocess.run([binary, *map(str, args)], capture_output=True, text=True)
    if check and r.returncode != 0:
        raise AssertionError(f"mnsim {' '.join(map(str, args))} exited {r.returncode}:\n"
                             f"{r.stdout}\n{r.stderr}")
    return r


@pytest.fixture(scope="session")
def tiny_dict():
    """tiny.toml as a dict (what a user would build in Python)."""
    return tomllib.loads(TINY.read_text())


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory, tiny_dict):
    """tiny.toml run from its dict through the module."""
    import mnsim

    return mnsim.run(tiny_dict, out=tmp_path_factory.mktemp("dict") / "run", threads=1)


@pytest.fixture(scope="session")
def tiny_cli(tmp_path_factory, mnsim_binary):
    """tiny.toml run from its file by the mnsim program."""
    out = tmp_path_factory.mktemp("cli") / "run"
    cli(mnsim_binary, "run", TINY, "--out", out, "--quiet", "--threads", 1)
    return out
