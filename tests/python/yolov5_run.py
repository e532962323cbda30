#!/usr/bin/python3
"""Runs one of yolov5's own scripts (val.py, detect.py, export.py, ...) on a machine without
yolov5's plotting and display dependencies, for check_pt_export.py.

  yolov5_run.py YOLOV5_DIR SCRIPT [ARGS...]

installs the stand-ins below for packages that are not installed, then runs
YOLOV5_DIR/SCRIPT as __main__ with sys.argv = [SCRIPT, ARGS...] (runpy), so the script's
own code, its argparse and its exit status are what the caller sees. Installed packages
are always used as they are: the stand-ins are found only after every real finder (the one
exception, torch.utils.tensorboard, is stood in for only when tensorboard is not installed).

The stand-ins (what yolov5 v7.0's val/detect/export and their imports need):
  tqdm        a real iterating progress wrapper (a MagicMock would iterate over nothing,
              and val.py would then validate zero batches)
  pandas      DataFrame(rows, columns) with column access by key and attribute (export.py's
              export_formats()['Argument'] and DetectMultiBackend's export_formats().Suffix)
              and `options`; anything else is an inert MagicMock
  matplotlib  use/rc, and pyplot.subplots() returning (figure, axes) with an axes array of
              the asked shape, so val.py's PR/F1/confusion-matrix plots run without error
  seaborn, IPython (and psutil, requests if missing)  inert MagicMock modules
and for train.py:
  git         Repo(path) raises git.exc.InvalidGitRepositoryError, as for a directory that
              is no repository: train.py's module-level check_git_info() imports git and
              then records {remote, branch, commit} None in the checkpoint's 'git' (a
              MagicMock there could not be pickled by torch.save)
  torch.utils.tensorboard  only when the tensorboard package is missing (torch's own module
              imports it and fails; this stand-in is then found before torch's file):
              SummaryWriter(log_dir, ...) whose add_scalar/add_image/add_graph/... and
              flush/close do nothing and write nothing (utils.loggers imports it at module
              level and Loggers always opens one)
thop and scipy are left missing: yolov5 imports thop under try/except ImportError and scipy
only inside functions the callers avoid (train.py runs with --noautoanchor and --noplots,
which also keep it from plot_labels and the TensorBoard graph trace).

Also importable: install_stubs() is what check_pt_export.py uses before importing yolov5
in-process.
"""
import importlib.abc
import importlib.machinery
import os
import runpy
import sys
import threading
import types
from unittest import mock

import numpy as np

MOCKED = ("IPython", "seaborn", "psutil", "requests")
TENSORBOARD = "torch.utils.tensorboard"  # stood in for only when the tensorboard package is missing


def _fallback(modname):
    def __getattr__(name):
        if name.startswith("__"):
            raise AttributeError(name)
        return mock.MagicMock(name=f"{modname}.{name}")
    return __getattr__


def _module(name, spec, package=False):
    m = types.ModuleType(name)
    m.__spec__, m.__loader__ = spec, spec.loader
    if package:
        m.__path__ = []
    m.__getattr__ = _fallback(name)
    m.__version__ = "0"
    return m


class _Tqdm:
    """What yolov5 uses of tqdm.tqdm: iterate, total, desc (also assigned), update, close."""

    def __init__(self, iterable=None, desc=None, total=None, initial=0, disable=False, **_):
        self.iterable, self.desc, self.n, self.disable = iterable, desc or "", initial, disable
        if total is None and iterable is not None and hasattr(iterable, "__len__"):
            total = len(iterable)
        self.total = total

    def __iter__(self):
        for x in self.iterable:
            yield x
            self.n += 1

    def __len__(self):
        return self.total or 0

    def __enter__(self):
        return self

    def __exit__(self, *_):
        self.close()

    def update(self, n=1):
        self.n += n

    def set_description(self, desc=None, refresh=True):
        self.desc = desc or ""

    def set_postfix(self, *_, **__):
        pass

    def refresh(self):
        pass

    def close(self):
        if self.desc and not self.disable:
            sys.stderr.write(f"{self.desc} [{self.n}/{self.total}]\n")

    @staticmethod
    def write(s, file=None, **_):
        print(s, file=file or sys.stdout)


class _DataFrame:
    """pandas.DataFrame(rows, columns): columns by df['c'] and df.c (as lists)."""

    def __init__(self, data=(), columns=None, **_):
        rows = [list(r) for r in data]
        self.columns = list(columns or range(len(rows[0]) if rows else 0))
        self._cols = {c: [r[i] for r in rows] for i, c in enumerate(self.columns)}

    def __getitem__(self, key):
        return self._cols[key]

    def __getattr__(self, key):
        cols = self.__dict__.get("_cols", {})
        if key in cols:
            return cols[key]
        raise AttributeError(key)

    def __len__(self):
        return len(next(iter(self._cols.values()), []))

    def __repr__(self):
        return "\n".join("  ".join(str(self._cols[c][i]) for c in self.columns) for i in range(len(self)))


def _subplots(nrows=1, ncols=1, **_):
    fig = mock.MagicMock(name="figure")
    if nrows * ncols == 1:
        return fig, mock.MagicMock(name="axes")
    axes = np.empty((nrows, ncols) if nrows > 1 and ncols > 1 else (nrows * ncols,), dtype=object)
    for i in np.ndindex(axes.shape):
        axes[i] = mock.MagicMock(name=f"axes{i}")
    return fig, axes


class _SummaryWriter:
    """torch.utils.tensorboard.SummaryWriter without tensorboard: every add_*/flush/close is a no-op."""

    def __init__(self, log_dir=None, *_, **__):
        self.log_dir = log_dir

    def __getattr__(self, name):
        if name.startswith("add_") or name in ("flush", "close"):
            return lambda *a, **k: None
        raise AttributeError(name)

    def __enter__(self):
        return self

    def __exit__(self, *_):
        pass


class _GitError(Exception):
    pass


def _git_repo(*_, **__):
    raise _GitError("git stand-in: no repository (gitpython is not installed)")


def _fill(name, m):
    if name == "tqdm":
        m.tqdm = _Tqdm
        m.trange = lambda *a, **k: _Tqdm(range(*a), **k)
    elif name == "pandas":
        m.DataFrame = _DataFrame
        m.options = types.SimpleNamespace(display=types.SimpleNamespace(max_columns=10))
    elif name == "matplotlib":
        m.use = m.rc = lambda *a, **k: None
    elif name == "matplotlib.pyplot":
        m.subplots = _subplots
        m.figure = lambda *a, **k: mock.MagicMock(name="figure")
    elif name == "git":
        m.Repo = _git_repo
        m.exc = types.SimpleNamespace(InvalidGitRepositoryError=_GitError, GitError=_GitError,
                                      NoSuchPathError=_GitError)
        m.InvalidGitRepositoryError = m.GitError = m.NoSuchPathError = _GitError
    elif name == TENSORBOARD:
        m.SummaryWriter = _SummaryWriter


class _Stubs(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    CUSTOM = ("tqdm", "pandas", "matplotlib", "git")

    def find_spec(self, name, path, target=None):
        top = name.split(".")[0]
        if top in self.CUSTOM or top in MOCKED:
            return importlib.machinery.ModuleSpec(name, self, is_package=True)
        return None

    def create_module(self, spec):
        if spec.name.split(".")[0] in MOCKED:
            m = mock.MagicMock(name=spec.name)
            m.__path__, m.__name__, m.__spec__, m.__version__ = [], spec.name, spec, "0"
            return m
        m = _module(spec.name, spec, package=True)
        _fill(spec.name, m)
        return m

    def exec_module(self, module):
        pass


class _TensorboardStub(_Stubs):
    """Put first on sys.meta_path, and only when tensorboard is missing: torch.utils.tensorboard exists as
    torch's file but cannot be imported without tensorboard, so the stand-in must be found before it."""

    def find_spec(self, name, path, target=None):
        if name == TENSORBOARD:
            return importlib.machinery.ModuleSpec(name, self, is_package=True)
        return None


def _installed(top):
    """Whether a finder other than the stand-ins' finds the top-level package `top`."""
    for finder in sys.meta_path:
        if isinstance(finder, _Stubs):
            continue
        try:
            spec = finder.find_spec(top, None)
        except (AttributeError, ImportError, ValueError):
            spec = None
        if spec:
            return True
    return False


def install_stubs():
    """Appends the stand-in finder (once), and puts the torch.utils.tensorboard one first when tensorboard
    is missing; returns the names of the packages it will stand in for."""
    if not any(isinstance(f, _Stubs) for f in sys.meta_path):
        sys.meta_path.append(_Stubs())
    missing = [top for top in _Stubs.CUSTOM + MOCKED if not _installed(top)]
    if not _installed("tensorboard") and TENSORBOARD not in sys.modules:
        if not any(isinstance(f, _TensorboardStub) for f in sys.meta_path):
            sys.meta_path.insert(0, _TensorboardStub())
        missing.append(TENSORBOARD)
    return missing


def yolov5_env(config_dir):
    """Environment for yolov5 code: no pip auto-install, settings (and the plot font) in config_dir."""
    env = dict(os.environ)
    env["YOLOv5_AUTOINSTALL"] = "false"
    env["YOLOV5_CONFIG_DIR"] = config_dir
    return env


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: yolov5_run.py YOLOV5_DIR SCRIPT [ARGS...]")
    root, script = os.path.abspath(sys.argv[1]), sys.argv[2]
    os.environ.setdefault("YOLOv5_AUTOINSTALL", "false")  # never pip-install from a test
    stubbed = install_stubs()
    print("yolov5_run.py: stand-ins for " + (", ".join(stubbed) or "nothing"), file=sys.stderr)
    sys.path.insert(0, root)
    sys.argv = [os.path.join(root, script)] + sys.argv[3:]
    try:
        runpy.run_path(sys.argv[0], run_name="__main__")
    finally:
        # yolov5 plots in daemon threads (@threaded) that die unseen when the script returns:
        # wait for them, so that their output files exist and their errors are printed.
        for t in threading.enumerate():
            if t is not threading.current_thread() and t.daemon:
                t.join(timeout=120)


if __name__ == "__main__":
    main()
