"""Python values as TOML text, so that a dict is read by the same schema as a file.

``to_toml(d)`` writes one key per line: a table's plain values first, then its sub-tables as
``[a.b]`` sections and its lists of tables as ``[[a.b]]`` sections, in the dict's order. The line
and column of an ``mnsim.InputError`` about a dict are those of this text.
"""

import datetime
import math
import re
from collections.abc import Mapping

from ._errors import input_error

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _quote(s):
    out = ['"']
    for ch in s:
        c = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif c < 0x20 or c == 0x7F:
            out.append(f"\\u{c:04x}")
        elif 0xD800 <= c <= 0xDFFF:  # a lone surrogate has no UTF-8 form
            out.append("\\ufffd")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _key(k, where, file):
    if not isinstance(k, str):
        raise input_error(file, where, f"key {k!r} is a {type(k).__name__}", "keys are strings")
    return k if _BARE_KEY.match(k) else _quote(k)


def _is_table_list(v):
    return isinstance(v, (list, tuple)) and len(v) > 0 and all(isinstance(x, Mapping) for x in v)


def value_text(v, where="", file="<dict>"):
    """One Python value as a TOML value (inline): bool, int, float, str, date, datetime, time,
    and lists and dicts of them. ``where`` names it in errors."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return _quote(v)
    if isinstance(v, (datetime.datetime, datetime.date, datetime.time)):
        return v.isoformat()
    if isinstance(v, Mapping):
        items = ", ".join(
            f"{_key(k, where, file)} = {value_text(x, _join(where, k), file)}" for k, x in v.items()
        )
        return "{" + (" " + items + " " if items else "") + "}"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(value_text(x, f"{where}[{i}]", file) for i, x in enumerate(v)) + "]"
    if hasattr(v, "item") and callable(v.item):  # a NumPy scalar
        return value_text(v.item(), where, file)
    if v is None:
        raise input_error(file, where, "None has no TOML value",
                          "leave the key out for its default")
    raise input_error(
        file, where, f"a {type(v).__name__} has no TOML value",
        "bool, int, float, str, date, a list or a dict")


def _join(path, k):
    return f"{path}.{k}" if path else str(k)


def _table(d, path, header, lines, file):
    plain, tables, arrays = [], [], []
    for k, v in d.items():
        if isinstance(v, Mapping):
            tables.append((k, v))
        elif _is_table_list(v):
            arrays.append((k, v))
        else:
            plain.append((k, v))
    for k, v in plain:
        lines.append(f"{_key(k, _join(path, k), file)} = {value_text(v, _join(path, k), file)}")
    for k, v in tables:
        h = f"{header}.{_key(k, _join(path, k), file)}" if header else _key(k, _join(path, k), file)
        lines.append("")
        lines.append(f"[{h}]")
        _table(v, _join(path, k), h, lines, file)
    for k, v in arrays:
        h = f"{header}.{_key(k, _join(path, k), file)}" if header else _key(k, _join(path, k), file)
        for i, item in enumerate(v):
            lines.append("")
            lines.append(f"[[{h}]]")
            _table(item, f"{_join(path, k)}[{i}]", h, lines, file)


def to_toml(d, file="<dict>"):
    """The TOML text of a dict (a scenario, cohort, planner patient or sweep as a file holds it).

    Quantities are strings with their unit (``"1.5 mm"``), as in a file. ``None`` and values
    with no TOML form raise ``mnsim.InputError`` naming the key.
    """
    if not isinstance(d, Mapping):
        raise TypeError(f"to_toml takes a dict, not a {type(d).__name__}")
    lines = []
    _table(d, "", "", lines, file)
    while lines and lines[0] == "":
        lines.pop(0)
    return "\n".join(lines) + "\n"
