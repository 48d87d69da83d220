"""Result folders as pandas DataFrames and xarray Datasets (docs/python.md, "Results").

The loaders read the files the command line writes (docs/outputs.md, docs/cohort.md,
docs/sweep.md); they need no simulation. Units go into ``attrs``: a DataFrame's
``attrs["units"]`` maps its columns to their units (those whose unit the column name or the file
says; grades, counts and labels have none), a Dataset's variables and coordinates carry
``attrs["units"]``.
"""

import json
import os
import re
import tomllib

import numpy as np
import pandas as pd

# Units by the words of a column name (mnsim names its outputs with their unit: depth_um_after,
# density_per_cm2, collagen_change_pct, wall_time_s, ...).
_UNIT_WORDS = {
    "um": "um",
    "mm": "mm",
    "mm3": "mm^3",
    "cm2": "cm^2",
    "pct": "%",
    "s": "s",
    "h": "h",
    "hours": "h",
    "days": "days",
    "day": "days",
    "weeks": "weeks",
    "wk": "weeks",
    "years": "years",
    "fraction": "1",
    "fractions": "1",
    "share": "1",
    "risk": "1",
    "incidence": "1",
    "mib": "MiB",
}


def unit_of(column):
    """The unit a column name states ("depth_um_after" -> "um", "density_per_cm2" -> "1/cm^2",
    "outcome.collagen_change_pct.papillary" -> "%"), or None."""
    parts = [p for p in re.split(r"[.\[\]]", str(column)) if p and not p.isdigit()]
    for part in reversed(parts):
        words = part.lower().split("_")
        for i in range(len(words) - 1, -1, -1):
            w = words[i]
            if w in _UNIT_WORDS:
                unit = _UNIT_WORDS[w]
                if i > 0 and words[i - 1] == "per":
                    unit = "1/" + unit
                return unit
    return None


def _with_units(df, extra=None):
    units = {}
    for c in df.columns:
        u = unit_of(c)
        if u is not None:
            units[str(c)] = u
    if extra:
        units.update(extra)
    df.attrs["units"] = units
    return df


def _read_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _check_complete(folder, what):
    """A result folder whose .mnsim-output marker says it is complete (docs/outputs.md)."""
    folder = os.fspath(folder)
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"{what}: no folder {folder!r}")
    marker = os.path.join(folder, ".mnsim-output")
    if not os.path.isfile(marker):
        raise FileNotFoundError(
            f"{what}: {folder!r} is not an mnsim results folder (no .mnsim-output)")
    state = _read_json(marker).get("state")
    if state != "complete":
        raise ValueError(f"{what}: the results in {folder!r} are not complete (state {state!r}): "
                         "an unfinished or interrupted run; resume it")
    return folder


# --- mnsim run ----------------------------------------------------------------------------------


def _field_units():
    from . import _mnsim

    return dict(_mnsim.field_units())


class Run:
    """A results folder of ``mnsim run`` (``mnsim.run`` or ``mnsim.load_run``).

    summary: summary.json as a dict. scenario: scenario.resolved.toml as a dict (``resolved``:
    its text). ``timeseries``, ``layer_means``, ``scar_depths``, ``scars``, ``sessions``: the
    tables; ``fields()``: fields.h5 as an xarray Dataset.
    """

    def __init__(self, folder):
        self.folder = _check_complete(folder, "load_run")
        self.summary = _read_json(os.path.join(self.folder, "summary.json"))
        with open(os.path.join(self.folder, "scenario.resolved.toml"), encoding="utf-8") as f:
            self.resolved = f.read()
        self.scenario = tomllib.loads(self.resolved)
        self._timeseries = None

    def __repr__(self):
        return f"mnsim.Run({self.folder!r})"

    @property
    def outcome(self):
        """summary.json's ``outcome``."""
        return self.summary["outcome"]

    def _file(self, name, switch):
        path = os.path.join(self.folder, name)
        if not os.path.isfile(path):
            raise FileNotFoundError(
                f"{path}: not in the results (the run did not write it: [output] {switch}?)")
        return path

    @property
    def timeseries(self):
        """timeseries.csv: one row per observation (time_s, time_days, quantity, layer, value)
        and the value's ``unit`` (the file's unit column where it has one, else the healing
        model's unit of the quantity); ``attrs["units"]`` the units of the time columns and
        ``attrs["quantity_units"]`` the unit of each quantity."""
        if self._timeseries is None:
            df = pd.read_csv(self._file("timeseries.csv", "timeseries = false"),
                             keep_default_na=False, na_values=[""],
                             dtype={"quantity": str, "layer": str, "unit": str})
            if "unit" in df.columns:
                qu = df.dropna(subset=["unit"]).groupby("quantity", sort=False)["unit"].first()
                qu = qu.to_dict()
            else:
                units = _field_units()
                qu = {}
                for q in df["quantity"].unique():
                    u = units.get(q) or unit_of(q)
                    if u is not None:
                        qu[q] = u
                df["unit"] = df["quantity"].map(qu)
            df.attrs["units"] = {"time_s": "s", "time_days": "days"}
            df.attrs["quantity_units"] = qu
            self._timeseries = df
        df = self._timeseries.copy()
        df.attrs = {k: dict(v) for k, v in self._timeseries.attrs.items()}
        return df

    def layer_means(self):
        """The healing fields' layer means as an xarray Dataset: one variable per field, dims
        (time, layer), time in days, units in each variable's attrs. The samples before and after
        a session share their time: both are kept, in that order (``sel(time=t)`` returns
        both; ``isel`` picks one)."""
        import xarray as xr

        df = self.timeseries
        units = df.attrs["quantity_units"]
        df = df[df["quantity"].isin(set(_field_units()))].reset_index(drop=True)
        # The k-th sample of a quantity and layer at one time: 0 before a session, 1 after.
        df["k"] = df.groupby(["time_s", "quantity", "layer"]).cumcount()
        samples = df[["time_s", "k", "time_days"]].drop_duplicates(["time_s", "k"])
        samples = samples.sort_values(["time_s", "k"]).reset_index(drop=True)
        index = pd.MultiIndex.from_frame(samples[["time_s", "k"]])
        layers = list(df["layer"].unique())  # as timeseries.csv lists them: top down
        row = index.get_indexer(pd.MultiIndex.from_frame(df[["time_s", "k"]]))
        col = pd.Index(layers).get_indexer(df["layer"])
        data = {}
        for q, part in df.groupby("quantity", sort=False):
            arr = np.full((len(samples), len(layers)), np.nan)
            arr[row[part.index], col[part.index]] = part["value"].to_numpy()
            data[q] = (("time", "layer"), arr, {"units": units.get(q, "")})
        return xr.Dataset(data, coords={
            "time": ("time", samples["time_days"].to_numpy(),
                     {"units": "days", "long_name": "simulated time"}),
            "time_s": ("time", samples["time_s"].to_numpy(), {"units": "s"}),
            "layer": ("layer", np.array(layers, dtype=object)),
        })

    @property
    def scar_depths(self):
        """Each scar's depth over time: scars.csv where the run wrote it (time_s, time_days,
        scar (its id, as summary.json's outcome.scars[].id), kind, depth_um, floor_rise_um,
        rim_rise_um, band_intact); from a run whose timeseries.csv holds the scar depths
        (quantity scar_depth_um, at the start and the end) those rows as time_s, time_days,
        scar (its position in outcome.scars), kind, depth_um."""
        path = os.path.join(self.folder, "scars.csv")
        if os.path.isfile(path):
            df = pd.read_csv(path, dtype={"scar": str, "kind": str})
            return _with_units(df, {"time_s": "s", "time_days": "days", "band_intact": "1"})
        df = self.timeseries
        df = df[df["quantity"] == "scar_depth_um"].copy()
        df = df.rename(columns={"layer": "kind", "value": "depth_um"})
        df["scar"] = df.groupby("time_s").cumcount()
        df = df[["time_s", "time_days", "scar", "kind", "depth_um"]].reset_index(drop=True)
        df.attrs["units"] = {"time_s": "s", "time_days": "days", "depth_um": "um"}
        return df

    @property
    def scars(self):
        """summary.json's outcome.scars, one row per scar, indexed by its ``id`` where
        summary.json gives one and by its position otherwise (``scar``)."""
        rows = self.summary["outcome"].get("scars", [])
        df = pd.DataFrame(rows)
        if len(df) and "id" in df.columns and df["id"].notna().all():
            df = df.set_index("id")
        else:
            df.index.name = "scar"
        return _with_units(df)

    @property
    def sessions(self):
        """summary.json's sessions, one row per session."""
        return _with_units(pd.DataFrame(self.summary.get("sessions", [])))

    def fields(self, fields=None, snapshots=None):
        """fields.h5 as an xarray Dataset (``load_fields``)."""
        return load_fields(self._file("fields.h5", "snapshots = []"), fields=fields,
                           snapshots=snapshots)


def load_run(folder):
    """The results folder of ``mnsim run`` as a ``Run``."""
    return Run(folder)


def _attr_text(v):
    if isinstance(v, bytes):
        return v.decode("utf-8")
    if isinstance(v, np.ndarray) and v.dtype.kind == "S":
        return [x.decode("utf-8") for x in v]
    return v


def _centres(faces):
    return 0.5 * (faces[:-1] + faces[1:])


def load_fields(path, fields=None, snapshots=None):
    """fields.h5 (format 2, docs/outputs.md) as an xarray Dataset.

    Variables: each stored field (float32, dims time, z, y, x; NaN in air cells; ``units`` in
    attrs) and ``layer`` (uint8, dims z, y, x: 0 air, 1 stratum_corneum ... 5 hypodermis).
    Coordinates: x, y (cell centres, um), z (cell centres as height above the unlesioned
    surface, um, negative in the skin, increasing upward), time (the snapshots' simulated time
    in days; snapshots before and after a session share it), with time_s, label and snapshot
    (the group name) along time, and the cell faces x_faces, y_faces, z_faces. ``attrs`` hold
    the file's format_version, mnsim_scenario, mnsim_run and mnsim_fields.

    fields: names to read (default: every stored field). snapshots: indices (0 = the first) or
    labels to read (default: all).
    """
    import h5py
    import xarray as xr

    path = os.fspath(path)
    with h5py.File(path, "r") as f:
        version = int(f.attrs.get("format_version", 1))
        if version != 2:
            raise ValueError(f"{path}: fields.h5 format {version}; this mnsim reads format 2 "
                             "(rerun the scenario with this version)")
        stored = [s for s in _attr_text(f.attrs["mnsim_fields"]).split(",") if s]
        if fields is None:
            fields = stored
        else:
            fields = [fields] if isinstance(fields, str) else list(fields)
            unknown = [x for x in fields if x not in stored]
            if unknown:
                raise KeyError(f"{path}: no field {unknown[0]!r}; stored: {', '.join(stored)}")
        g = f["grid"]
        xf, yf, zf = (np.asarray(g[k][...], dtype=np.float64)
                      for k in ("x_faces", "y_faces", "z_faces"))
        layer = np.asarray(g["layer"][...])
        layer_attrs = {k: _attr_text(v) for k, v in g["layer"].attrs.items()}
        names = sorted(f["snapshots"].keys())
        labels = [_attr_text(f["snapshots"][n].attrs["label"]) for n in names]
        if snapshots is not None:
            picked = []
            for s in ([snapshots] if isinstance(snapshots, (int, str)) else snapshots):
                if isinstance(s, str):
                    if s not in labels:
                        raise KeyError(f"{path}: no snapshot labelled {s!r}; labels: "
                                       f"{', '.join(labels)}")
                    picked.append(labels.index(s))
                else:
                    picked.append(range(len(names))[s])
            names = [names[i] for i in picked]
            labels = [labels[i] for i in picked]
        days = np.array([float(f["snapshots"][n].attrs["time_days"]) for n in names])
        secs = np.array([float(f["snapshots"][n].attrs["time_s"]) for n in names])
        data, units = {}, {}
        for name in fields:
            arr = np.empty((len(names), layer.shape[0], layer.shape[1], layer.shape[2]),
                           dtype=np.float32)
            for i, n in enumerate(names):
                d = f["snapshots"][n][name]
                arr[i] = d[...]
                units[name] = _attr_text(d.attrs.get("units", b""))
            data[name] = arr
        root_attrs = {k: _attr_text(f.attrs[k]) for k in
                      ("format_version", "mnsim_scenario", "mnsim_run", "mnsim_fields")
                      if k in f.attrs}
    dims = ("time", "z", "y", "x")
    ds = xr.Dataset(
        {name: (dims, arr, {"units": units.get(name, "")}) for name, arr in data.items()},
        coords={
            "time": ("time", days, {"units": "days", "long_name": "simulated time"}),
            "time_s": ("time", secs, {"units": "s"}),
            "label": ("time", np.array(labels, dtype=object)),
            "snapshot": ("time", np.array(names, dtype=object)),
            "x": ("x", _centres(xf), {"units": "um", "long_name": "cell centre x"}),
            "y": ("y", _centres(yf), {"units": "um", "long_name": "cell centre y"}),
            "z": ("z", _centres(zf), {"units": "um", "positive": "up",
                                      "long_name": "height above the unlesioned surface"}),
            "x_faces": ("x_face", xf, {"units": "um"}),
            "y_faces": ("y_face", yf, {"units": "um"}),
            "z_faces": ("z_face", zf, {"units": "um", "positive": "up"}),
        },
        attrs={**root_attrs, "source": path},
    )
    ds["layer"] = (("z", "y", "x"), layer, layer_attrs)
    return ds


# --- mnsim cohort -------------------------------------------------------------------------------


class Cohort:
    """A results folder of ``mnsim cohort``: ``summary`` (cohort.json as a dict), ``arms`` (the
    arms' names; ``["protocol"]`` for a single [protocol]) and ``patients`` (every patients file,
    one row per patient and arm, with an ``arm`` column)."""

    def __init__(self, folder):
        self.folder = _check_complete(folder, "load_cohort")
        self.summary = _read_json(os.path.join(self.folder, "cohort.json"))
        if "arms" in self.summary:
            self.arms = list(self.summary["arms"].keys())
            files = [f"patients_{a}.csv" for a in self.arms]
        else:
            self.arms = ["protocol"]
            files = ["patients.csv"]
        frames = []
        for arm, name in zip(self.arms, files):
            df = pd.read_csv(os.path.join(self.folder, name))
            df.insert(0, "arm", arm)
            frames.append(df)
        self._patients = _with_units(pd.concat(frames, ignore_index=True))

    def __repr__(self):
        return f"mnsim.Cohort({self.folder!r})"

    @property
    def patients(self):
        df = self._patients.copy()
        df.attrs = dict(self._patients.attrs)
        return df

    def arm_summary(self, arm=None):
        """cohort.json's object of one arm (the only one when there is a single [protocol])."""
        if "arms" not in self.summary:
            return self.summary
        return self.summary["arms"][arm if arm is not None else self.arms[0]]


def load_cohort(folder):
    """The results folder of ``mnsim cohort`` as a ``Cohort``."""
    return Cohort(folder)


# --- mnsim sweep --------------------------------------------------------------------------------

_QUANTITY = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([^\s\d.+-][^\s]*)\s*$")


def _axis_coord(values):
    """An axis's values as a coordinate: numbers; quantities of one unit as numbers with that
    unit ("0.5 mm" -> 0.5, units mm); anything else as written."""
    vals = list(values)
    if all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
           for v in vals):
        return np.asarray(vals), {}
    matches = [_QUANTITY.match(str(v)) for v in vals]
    if all(matches) and len({m.group(2) for m in matches}) == 1:
        return np.array([float(m.group(1)) for m in matches]), {"units": matches[0].group(2)}
    return np.array([str(v) for v in vals], dtype=object), {}


class Sweep:
    """A results folder of ``mnsim sweep``: ``table`` (sweep.csv, one row per point), ``axes``
    (the swept keys), ``mode`` ("grid" or "zip"), ``resolved`` (sweep.resolved.toml's text),
    ``failed`` (messages of the points whose run failed, from ``mnsim.sweep``)."""

    def __init__(self, folder):
        self.folder = _check_complete(folder, "load_sweep")
        with open(os.path.join(self.folder, "sweep.resolved.toml"), encoding="utf-8") as f:
            self.resolved = f.read()
        # The resolved sweep file, before the resolved base scenario (run/sweep.cpp).
        head = self.resolved.split("\n# base scenario ", 1)[0]
        spec = tomllib.loads(head)
        self.title = spec.get("title", "")
        self.mode = spec.get("mode", "grid")
        self.axes = [a["key"] for a in spec.get("axis", [])]
        self.axis_values = {a["key"]: list(a["values"]) for a in spec.get("axis", [])}
        self.keep_runs = bool(spec.get("keep_runs", False))
        self._table = _with_units(pd.read_csv(os.path.join(self.folder, "sweep.csv")))
        self.failed = [f"point {p}: {s}" for p, s in
                       zip(self._table["point"], self._table["status"]) if s != "ok"]
        self.resumed = 0

    def __repr__(self):
        return f"mnsim.Sweep({self.folder!r}, {len(self._table)} points)"

    @property
    def table(self):
        df = self._table.copy()
        df.attrs = {k: dict(v) for k, v in self._table.attrs.items()}
        return df

    def dataset(self, columns=None):
        """The outcomes as an xarray Dataset: a grid sweep has one dimension per axis with more
        than one value (named by its key, values as numbers where they are: "0.5 mm" becomes 0.5
        with units mm), a zip sweep the dimension ``point`` with the axes as coordinates. One
        variable per numeric column (``columns``: those only), units in attrs."""
        import xarray as xr

        df = self.table
        units = df.attrs["units"]
        if columns is None:
            skip = {"point", "status", *self.axes}
            columns = [c for c in df.columns if c not in skip and
                       pd.api.types.is_numeric_dtype(df[c])]
        else:
            columns = [columns] if isinstance(columns, str) else list(columns)
        coords, attrs = {}, {}
        for key in self.axes:
            c, a = _axis_coord(self.axis_values[key])
            coords[key] = (c, a)
        if self.mode == "grid":
            dims = [k for k in self.axes if len(self.axis_values[k]) > 1]
            shape = [len(self.axis_values[k]) for k in dims]
            data = {}
            for c in columns:
                arr = pd.to_numeric(df[c], errors="coerce").to_numpy(dtype=float)
                data[c] = (dims, arr.reshape(shape) if dims else arr.reshape(()),
                           {"units": units[c]} if c in units else {})
            ds = xr.Dataset(data, coords={k: (k, coords[k][0], coords[k][1]) for k in dims})
            for k in self.axes:
                if k not in dims:
                    attrs[k] = self.axis_values[k][0]
        else:
            data = {c: ("point", pd.to_numeric(df[c], errors="coerce").to_numpy(dtype=float),
                        {"units": units[c]} if c in units else {}) for c in columns}
            ds = xr.Dataset(data, coords={"point": df["point"].to_numpy(),
                                          **{k: ("point", coords[k][0], coords[k][1])
                                             for k in self.axes}})
        ds.attrs.update(title=self.title, mode=self.mode, **{f"fixed {k}": str(v)
                                                             for k, v in attrs.items()})
        return ds

    def run(self, point):
        """Point ``point`` (1-based, as in sweep.csv)'s run folder, kept with keep_runs."""
        if not self.keep_runs:
            raise ValueError("run folders are kept only with keep_runs = true")
        return load_run(os.path.join(self.folder, "runs", f"{int(point):04d}"))


def load_sweep(folder):
    """The results folder of ``mnsim sweep`` as a ``Sweep``."""
    return Sweep(folder)


# --- mnsim plan and the reduced model -----------------------------------------------------------


class Plan:
    """The result of ``mnsim.plan``: ``json`` (the plan as ``mnsim plan --json`` writes it, a
    dict), ``evaluated`` (every protocol searched: ``mnsim plan --csv`` as a DataFrame),
    ``ranked`` (the ranked protocols), ``table`` (the text table), ``scenario(rank)`` (ranked
    protocol ``rank`` as a runnable scenario, ``mnsim.TomlText``)."""

    def __init__(self, json_text, csv_text, table, scenarios):
        import io

        self.json = json.loads(json_text)
        self.table = table
        self._scenarios = list(scenarios)
        self.evaluated = _csv_with_header_units(pd.read_csv(io.StringIO(csv_text)))
        self.ranked = _with_units(pd.json_normalize(self.json.get("ranked", []), sep="."))

    def __repr__(self):
        return f"mnsim.Plan({len(self._scenarios)} ranked of {len(self.evaluated)} searched)"

    def __str__(self):
        return self.table

    def scenario(self, rank):
        """Ranked protocol ``rank`` (1 = best) as a scenario for ``mnsim.run``."""
        from . import TomlText

        if not 1 <= int(rank) <= len(self._scenarios):
            raise IndexError(f"rank {rank}: the plan ranks {len(self._scenarios)} protocols")
        return TomlText(self._scenarios[int(rank) - 1], f"<plan rank {int(rank)}>")


_HEADER_UNIT = re.compile(r"^(.*?)\s*[\[(]([^\])]+)[\])]\s*$")


def _csv_with_header_units(df):
    """Columns named "name (unit)" or "name [unit]" lose the unit into attrs; others keep the
    unit their name states."""
    units, names = {}, {}
    for c in df.columns:
        m = _HEADER_UNIT.match(str(c))
        if m:
            names[c] = m.group(1)
            units[m.group(1)] = m.group(2)
    df = df.rename(columns=names)
    return _with_units(df, units)


class ReducedOutcome:
    """The reduced model's outcome for one patient (``mnsim.reduced``): ``values`` (the scalar
    outcomes at the headline time, named as in patients.csv, with their units in ``units``),
    ``scars`` (one row per scar), ``times`` (the outcome at every outcome time),
    ``channel_course`` (the channels after a session)."""

    def __init__(self, json_text):
        self.raw = json.loads(json_text)
        self.protocol = self.raw.get("protocol", "")
        self.values = {k: v for k, v in self.raw.items()
                       if not isinstance(v, (list, dict)) and k != "protocol"}
        self.units = {k: u for k in self.values if (u := unit_of(k)) is not None}
        self.scars = _with_units(pd.DataFrame(self.raw["scars"]).set_index("scar"))
        times = pd.DataFrame([{k: v for k, v in t.items() if k != "scars"}
                              for t in self.raw["at"]])
        self.times = _with_units(times)
        self.channel_course = _with_units(pd.DataFrame(self.raw["channel_course"]),
                                          {"open_fraction": "1", "tewl_excess": "1"})

    def __getitem__(self, key):
        return self.values[key]

    def __repr__(self):
        v = self.values
        return (f"mnsim.ReducedOutcome({self.protocol}: scar depth reduction "
                f"{v['scar_depth_reduction_pct']:.1f} %, papillary collagen "
                f"{v['papillary_collagen_change_pct']:+.1f} %)")


__all__ = ["Run", "Cohort", "Sweep", "Plan", "ReducedOutcome", "load_run", "load_cohort",
           "load_sweep", "load_fields", "unit_of"]

