"""The exceptions of the mnsim package (docs/python.md, "Errors").

The compiled module raises them for the library's errors (python/src/module.cpp).
"""


class InputError(ValueError):
    """A mistake in an input: a scenario, cohort, planner or sweep file or dict, an override.

    ``str(e)`` is the one-line message the command line prints after ``error:``
    (``FILE:LINE:COL: KEY: problem (expected)``). For a dict, ``file`` is ``"<dict>"`` (or
    ``"<protocol dict>"``, ...) and ``line``/``col`` are those of ``mnsim.to_toml(the dict)``; for
    an override, ``file`` is ``"--set KEY"``.

    Attributes: ``file``, ``line``, ``col`` (1-based; 0 when unknown), ``key`` (the dotted key,
    ``"device.depth"``), ``problem``, ``expected`` (what would be valid; may be empty).
    """

    def __init__(self, message, file="", line=0, col=0, key="", problem="", expected=""):
        super().__init__(message)
        self.file = file
        self.line = line
        self.col = col
        self.key = key
        self.problem = problem
        self.expected = expected


class NumericalError(RuntimeError):
    """The simulation failed numerically (the command line's exit code 1)."""


class OutputError(OSError):
    """A result could not be written (full disk, permissions; the command line's exit code 1)."""


def input_error(file, key, problem, expected=""):
    """An InputError with no line, composed as the library composes its messages."""
    message = f"{file}: {key or '-'}: {problem}"
    if expected:
        message += f" ({expected})"
    return InputError(message, file, 0, 0, key, problem, expected)


# Shown as mnsim.InputError (the name users catch), not mnsim._errors.InputError.
for _cls in (InputError, NumericalError, OutputError):
    _cls.__module__ = "mnsim"
