"""Scene modules: plain Python files that build and animate a stage.

A scene module may define these functions (only ``setup`` is required)::

    def add_arguments(parser: argparse.ArgumentParser) -> None:
        '''Add scene-specific command-line options (e.g. the terminal scene's --log PATH).'''

    def setup(stage: Stage, options: argparse.Namespace) -> None:
        '''Build the scene graph on stage.root.  Keep what update() needs on stage.state.'''

    def update(stage: Stage, t: float) -> None:
        '''Called before every frame; t is the stream time in seconds.  Change node properties
        here; unchanged nodes cost nothing.  Keep it quick: it runs inside the 33 ms frame.'''

    def on_comment(stage: Stage, comment) -> None:
        '''A viewer comment arrived: comment.author_name (may be None), comment.text.'''

    def teardown(stage: Stage) -> None:
        '''Stop threads, close files.'''

``load_scene(path)`` imports the file under a unique module name and checks this contract before
anything goes on air: a missing file, a syntax error, an exception raised while importing, a
missing ``setup`` or an entry point that is not a function all raise ``SceneLoadError`` naming the
file and line.  Errors raised later by the entry points themselves propagate to the caller
(the frame loop logs them and keeps the last good frame going out).
"""

from __future__ import annotations

import argparse
import importlib.util
import inspect
import itertools
import sys
import traceback
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

ENTRY_POINTS = {
    "add_arguments": 1,
    "setup": 2,
    "update": 2,
    "on_comment": 2,
    "teardown": 1,
}

_counter = itertools.count(1)


class SceneLoadError(Exception):
    """A scene module cannot be used; the message names the file (and line) and what to fix."""


class SceneModule:
    """A loaded scene: call its entry points; the optional ones it lacks do nothing."""

    def __init__(self, module: ModuleType, path: Path) -> None:
        self.module = module
        self.path = path
        self.name = path.stem
        self._fns: dict[str, Callable[..., Any] | None] = {n: getattr(module, n, None) for n in ENTRY_POINTS}
        if self._fns["update"] is not None:
            # Called every frame: the scene's own function, not a wrapper around it (one Python call less,
            # in the frame thread's cold caches).  Same signature as the method it shadows.
            self.update = self._fns["update"]  # type: ignore[method-assign]

    def has(self, entry_point: str) -> bool:
        return self._fns.get(entry_point) is not None

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        fn = self._fns["add_arguments"]
        if fn is not None:
            fn(parser)

    def setup(self, stage: Any, options: argparse.Namespace) -> None:
        self._fns["setup"](stage, options)  # type: ignore[misc]

    def update(self, stage: Any, t: float) -> None:
        fn = self._fns["update"]
        if fn is not None:
            fn(stage, t)

    def on_comment(self, stage: Any, comment: Any) -> None:
        fn = self._fns["on_comment"]
        if fn is not None:
            fn(stage, comment)

    def teardown(self, stage: Any) -> None:
        fn = self._fns["teardown"]
        if fn is not None:
            fn(stage)

    def __repr__(self) -> str:
        return f"SceneModule({str(self.path)!r})"


def load_scene(path: str | Path) -> SceneModule:
    """Import the scene module at ``path`` and check its entry points (see the module docstring)."""
    path = Path(path)
    if not path.is_file():
        what = "is a directory" if path.is_dir() else "does not exist"
        raise SceneLoadError(f"scene module {path} {what}: pass the path of a .py file such as scenes/terminal.py")
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SceneLoadError(f"cannot read scene module {path}: {exc}") from exc
    try:
        code = compile(source, str(path), "exec")
    except SyntaxError as exc:
        where = f"{path}:{exc.lineno}" if exc.lineno else str(path)
        line = (exc.text or "").strip()
        raise SceneLoadError(f"{where}: syntax error: {exc.msg}" + (f"\n    {line}" if line else "")) from None

    # A unique name per load: two loads never share state, and no plain name lands in sys.modules.
    name = f"_streamer_scene_{next(_counter)}_{''.join(c if c.isalnum() else '_' for c in path.stem)}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules[name] = module  # dataclasses and pickling look the module up while it executes
    try:
        exec(code, module.__dict__)
    except (Exception, SystemExit) as exc:  # sys.exit() in a scene is a broken scene too
        sys.modules.pop(name, None)
        raise SceneLoadError(_import_failure(path, exc)) from exc

    _check_entry_points(module, path, source)
    return SceneModule(module, path)


def _import_failure(path: Path, exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    in_scene = [f for f in frames if f.filename == str(path)]  # compile() was given str(path)
    detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    if in_scene:
        last = in_scene[-1]
        return f"{path}:{last.lineno}: importing the scene raised {detail}" + (
            f"\n    {last.line}" if last.line else ""
        )
    return f"{path}: importing the scene raised {detail}"


def _check_entry_points(module: ModuleType, path: Path, source: str) -> None:
    setup = getattr(module, "setup", None)
    if setup is None:
        raise SceneLoadError(
            f"{path}: a scene module must define setup(stage, options) to build its scene graph "
            f"(optional: add_arguments, update, on_comment, teardown)"
        )
    for name, arity in ENTRY_POINTS.items():
        fn = getattr(module, name, None)
        if fn is None:
            continue
        line = _line_of(fn, name, source)
        where = f"{path}:{line}" if line else str(path)
        if not callable(fn):
            raise SceneLoadError(f"{where}: {name} must be a function, not {type(fn).__name__}")
        try:
            inspect.signature(fn).bind(*range(arity))
        except TypeError:
            params = {1: "(stage)", 2: "(stage, ...)"}
            expected = {
                "add_arguments": "(parser)", "setup": "(stage, options)", "update": "(stage, t)",
                "on_comment": "(stage, comment)", "teardown": "(stage)",
            }.get(name, params[arity])
            raise SceneLoadError(f"{where}: {name} must accept {expected}") from None
        except ValueError:
            pass  # builtins without a signature: trust them


def _line_of(fn: Any, name: str, source: str) -> int | None:
    code = getattr(fn, "__code__", None)
    if code is not None:
        return code.co_firstlineno
    # Not a function: point at the top-level assignment instead.
    for i, line in enumerate(source.splitlines(), 1):
        if line.startswith(name) and line[len(name):].lstrip().startswith(("=", ":")):
            return i
    return None
