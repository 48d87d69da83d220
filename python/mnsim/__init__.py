"""mnsim from Python: run scenarios, cohorts, plans, sweeps and the reduced model through
libmnsim, and read result folders as pandas DataFrames and xarray Datasets (docs/python.md).

    import mnsim
    run = mnsim.run("examples/04_single_session_pen.toml", out="results/pen")
    run.scars                 # DataFrame, units in .attrs["units"]
    run.fields()              # xarray Dataset of fields.h5 (x, y, z in um, time in days)

Inputs are a file (a path), a dict (written as TOML by ``mnsim.to_toml`` and read by the same
schema as a file: the same one-line ``mnsim.InputError``), or ``mnsim.TomlText``.
"""

import os as _os
from collections.abc import Mapping as _Mapping

from ._errors import InputError, NumericalError, OutputError
from ._toml import to_toml, value_text as _value_text


def _installed_data_dir():
    """An installed package (cmake --install) reads the installed data files."""
    try:
        from ._install import DATA_FROM_PACKAGE
    except ImportError:  # the build tree: the library knows the source tree's data folder
        return None
    d = _os.path.normpath(_os.path.join(_os.path.dirname(__file__), DATA_FROM_PACKAGE))
    return d if _os.path.isfile(_os.path.join(d, "sites.toml")) else None


if not _os.environ.get("MNSIM_DATA_DIR"):
    _d = _installed_data_dir()
    if _d:
        _os.environ["MNSIM_DATA_DIR"] = _d

# OpenMP threads that spin without bound while they wait cost the program 3x its wall time on a
# busy machine, and threads that sleep at once pay a wake-up at each barrier (apps/mnsim/main.cpp,
# core/openmp_wait.hpp); libgomp reads its settings when it loads, with the extension below, so
# the package asks for the program's bounded spin (GOMP_SPINCOUNT, the same count), unless the
# user chose a policy or a spin count (or libgomp was loaded before, by another module).
if "OMP_WAIT_POLICY" not in _os.environ and "GOMP_SPINCOUNT" not in _os.environ:
    _os.environ["GOMP_SPINCOUNT"] = "3000"

from . import _mnsim  # noqa: E402  (after MNSIM_DATA_DIR and GOMP_SPINCOUNT)
from .results import (  # noqa: E402
    Cohort,
    Plan,
    ReducedOutcome,
    Run,
    Sweep,
    load_cohort,
    load_fields,
    load_run,
    load_sweep,
)

__version__ = _mnsim.version()

__all__ = [
    "InputError", "NumericalError", "OutputError", "TomlText", "to_toml",
    "run", "check", "cohort", "plan", "reduced", "sweep",
    "load_run", "load_cohort", "load_sweep", "load_fields",
    "Run", "Cohort", "Plan", "Sweep", "ReducedOutcome",
    "field_units", "data_dir", "set_log_level", "version_info",
]


class TomlText:
    """TOML text given as an input instead of a file or a dict; ``name`` names it in messages."""

    def __init__(self, text, name="<text>"):
        self.text = str(text)
        self.name = str(name)

    def __repr__(self):
        return f"TomlText({self.name!r}, {len(self.text)} characters)"


def _source(x, what, label="<dict>"):
    """(path, text) for the compiled module: a file, a dict or TomlText."""
    if isinstance(x, TomlText):
        return x.name, x.text
    if isinstance(x, _Mapping):
        return label, to_toml(x, label)
    if isinstance(x, (str, bytes, _os.PathLike)):
        return _os.fsdecode(x), None
    raise TypeError(f"{what}: a file name, a dict or mnsim.TomlText, not a {type(x).__name__}")


def _overrides(overrides):
    """(KEY, TOML value) pairs: a dict {key: Python value}, or "KEY=VALUE" strings as --set takes
    them (VALUE TOML, or text taken as a string when it does not parse as TOML)."""
    if overrides is None:
        return []
    if isinstance(overrides, _Mapping):
        return [(str(k), _value_text(v, str(k), f"--set {k}")) for k, v in overrides.items()]
    if isinstance(overrides, str):
        overrides = [overrides]
    return [tuple(_mnsim.parse_override(str(item))) for item in overrides]


def _threads(threads):
    if threads is None:
        return 0
    if isinstance(threads, bool) or not isinstance(threads, int) or not 1 <= threads <= 1024:
        raise ValueError(f"threads: a whole number from 1 to 1024, not {threads!r}")
    return threads


def _folder(out, what):
    if out is None:
        raise TypeError(f"{what}: out, the results folder, is required")
    s = _os.fsdecode(out)
    if not s:
        raise ValueError(f"{what}: out is an empty folder name")
    return s


def run(scenario, out, *, overrides=None, seed=None, threads=None, force=False, resume=False,
        checkpoint_every=300.0):
    """Simulates a scenario (``mnsim run``) and returns its results folder as a ``Run``.

    scenario: a file, a dict or TomlText. out: the results folder (written as the command line
    writes it). overrides: ``{"device.depth": "1.0 mm", "technique.passes": 4}`` or
    ``["device.depth=1.0 mm"]`` (``--set``). seed: overrides the scenario's seed. threads: 1 to
    1024 (default: every core). force, resume: as ``--force`` and ``--resume``. checkpoint_every:
    wall seconds between checkpoints. Ctrl-C (or a Jupyter interrupt) checkpoints and raises
    KeyboardInterrupt; call again with ``resume=True`` to continue.
    """
    path, text = _source(scenario, "run")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or
                             not 0 <= seed <= 2**53 - 1):
        raise ValueError(f"seed: a whole number from 0 to 2^53 - 1, not {seed!r}")
    folder = _folder(out, "run")
    _mnsim.run_scenario(path, text, _overrides(overrides), folder, _threads(threads), seed,
                        bool(force), bool(resume), float(checkpoint_every))
    return load_run(folder)


def check(scenario, *, overrides=None, seed=None):
    """Validates a scenario without running it (``mnsim check``): returns a dict with
    ``resolved`` (the scenario with every default, TOML text) and ``memory_mib`` (the estimated
    peak memory of the run)."""
    path, text = _source(scenario, "check")
    resolved, mem = _mnsim.check_scenario(path, text, _overrides(overrides), seed)
    return {"resolved": resolved, "memory_mib": mem / 2**20}


def cohort(spec, out, *, overrides=None, threads=None, force=False, resume=False):
    """Simulates a virtual cohort with the reduced model (``mnsim cohort``): writes
    ``out/cohort.json`` and the patients files and returns them as a ``Cohort``."""
    path, text = _source(spec, "cohort")
    folder = _folder(out, "cohort")
    _mnsim.run_cohort(path, text, _overrides(overrides), folder, _threads(threads), bool(force),
                      bool(resume))
    return load_cohort(folder)


def plan(patient, *, overrides=None, threads=None, start_date=None):
    """Searches protocols for a planner patient (``mnsim plan``) and returns a ``Plan``.
    start_date: ``"YYYY-MM-DD"`` (or a date) to date the calendars."""
    path, text = _source(patient, "plan")
    if start_date is not None and hasattr(start_date, "isoformat"):
        start_date = start_date.isoformat()
    d = _mnsim.plan(path, text, _overrides(overrides), _threads(threads), start_date or "")
    return Plan(d["json"], d["csv"], d["table"], d["scenarios"])


def reduced(patient, protocol, *, overrides=None, protocol_overrides=None):
    """The reduced model for one patient (docs/cohort.md): ``patient`` as a planner patient file
    holds it (``[patient]``, ``[[scars]]`` or ``[inventory]``), ``protocol`` as a cohort file's
    ``[protocol]`` table (a dict of its keys, or a cohort file: its protocol). Returns a
    ``ReducedOutcome``."""
    ppath, ptext = _source(patient, "reduced: patient")
    if isinstance(protocol, _Mapping):
        qpath, qtext = "<protocol dict>", to_toml({"protocol": protocol}, "<protocol dict>")
    else:
        qpath, qtext = _source(protocol, "reduced: protocol")
    j = _mnsim.reduced(ppath, ptext, _overrides(overrides), qpath, qtext,
                       _overrides(protocol_overrides))
    return ReducedOutcome(j)


def sweep(spec, out, *, jobs=1, threads=None, force=False, resume=False):
    """Runs a sweep (``mnsim sweep``): a scenario over a grid or list of values of any of its
    keys. A dict's ``scenario`` is relative to the current directory. Returns a ``Sweep``;
    points that failed are listed in its ``failed``."""
    path, text = _source(spec, "sweep")
    if isinstance(jobs, bool) or not isinstance(jobs, int) or not 1 <= jobs <= 64:
        raise ValueError(f"jobs: a whole number from 1 to 64, not {jobs!r}")
    folder = _folder(out, "sweep")
    r = _mnsim.run_sweep(path, text, folder, jobs, _threads(threads), bool(force), bool(resume))
    s = load_sweep(folder)
    s.failed = list(r["failed"])
    s.resumed = r["resumed"]
    return s


def field_units():
    """The unit of every healing field (the model's working units: mg/mL, cells/mm^3, ...)."""
    return dict(_mnsim.field_units())


def data_dir():
    """The folder the library reads its data files from."""
    return _mnsim.data_dir()


def set_log_level(level):
    """The library's log lines on stderr: trace, debug, info, warn (default), error or off."""
    _mnsim.set_log_level(level)


def version_info():
    """The library's version, git commit and build type."""
    return {"version": _mnsim.version(), "git_commit": _mnsim.git_commit(),
            "build_type": _mnsim.build_type()}
