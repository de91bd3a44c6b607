"""Loading scene modules: clear errors naming file and line, before anything goes on air."""

import argparse
import sys
import textwrap
from pathlib import Path

import pytest

from streamer.scene import Stage
from streamer.scene.loader import SceneLoadError, load_scene

SCENES = Path(__file__).resolve().parents[2] / "scenes"


def write(tmp_path, body: str, name: str = "scene.py") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(body))
    return path


def test_syntax_error_names_file_and_line(tmp_path):
    path = write(tmp_path, """\
        def setup(stage, options):
            pass

        def update(stage, t)
            pass
        """)
    with pytest.raises(SceneLoadError) as err:
        load_scene(path)
    assert f"{path}:4" in str(err.value) and "syntax error" in str(err.value)


def test_missing_setup(tmp_path):
    path = write(tmp_path, "def update(stage, t):\n    pass\n")
    with pytest.raises(SceneLoadError, match=r"must define setup\(stage, options\)") as err:
        load_scene(path)
    assert str(path) in str(err.value)


def test_exception_at_import_names_the_scene_line(tmp_path):
    path = write(tmp_path, """\
        import os

        LIMIT = 10
        RATIO = LIMIT / 0

        def setup(stage, options):
            pass
        """)
    with pytest.raises(SceneLoadError) as err:
        load_scene(path)
    msg = str(err.value)
    assert f"{path}:4" in msg and "ZeroDivisionError" in msg and "RATIO = LIMIT / 0" in msg


def test_import_of_a_missing_package(tmp_path):
    path = write(tmp_path, "import no_such_package_here\ndef setup(stage, options): pass\n")
    with pytest.raises(SceneLoadError, match=r"scene.py:1: .*ModuleNotFoundError"):
        load_scene(path)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(SceneLoadError, match="does not exist"):
        load_scene(tmp_path / "nope.py")
    with pytest.raises(SceneLoadError, match="is a directory"):
        load_scene(tmp_path)


def test_non_callable_and_wrong_signature_entry_points(tmp_path):
    path = write(tmp_path, "def setup(stage, options): pass\nupdate = 42\n")
    with pytest.raises(SceneLoadError, match=r"scene.py:2: update must be a function, not int"):
        load_scene(path)
    path = write(tmp_path, "def setup(stage): pass\n", name="one_arg.py")
    with pytest.raises(SceneLoadError, match=r"one_arg.py:1: setup must accept \(stage, options\)"):
        load_scene(path)


def test_sys_exit_at_import_is_a_load_error(tmp_path):
    path = write(tmp_path, "import sys\nsys.exit(3)\n")
    with pytest.raises(SceneLoadError, match="SystemExit"):
        load_scene(path)


def test_unique_module_per_load_and_optional_entry_points(tmp_path):
    path = write(tmp_path, """\
        import dataclasses
        calls = []

        @dataclasses.dataclass
        class Thing:
            n: int

        def setup(stage, options):
            calls.append(("setup", options.n, Thing(1).n))
        """)
    before = set(sys.modules)
    a, b = load_scene(path), load_scene(path)
    assert a.module is not b.module
    added = set(sys.modules) - before
    assert all(name.startswith("_streamer_scene_") for name in added)
    assert "scene" not in sys.modules
    stage = Stage(64, 64)
    a.setup(stage, argparse.Namespace(n=5))
    a.update(stage, 0.0)  # optional entry points that are missing do nothing
    a.on_comment(stage, argparse.Namespace(author="x", text="y"))
    a.teardown(stage)
    a.add_arguments(argparse.ArgumentParser())
    assert a.module.calls == [("setup", 5, 1)] and b.module.calls == []


@pytest.mark.parametrize("name", ["terminal.py", "hello.py"])
def test_bundled_scenes_load_and_render(name, tmp_path):
    scene = load_scene(SCENES / name)
    parser = argparse.ArgumentParser()
    scene.add_arguments(parser)
    options = parser.parse_args(["--log", str(tmp_path / "x.log")] if name == "terminal.py" else [])
    stage = Stage()
    scene.setup(stage, options)
    try:
        for i in range(3):
            scene.update(stage, i / 30)
            stage.render()
        scene.on_comment(stage, argparse.Namespace(author="ann", text="hello"))
        scene.update(stage, 0.1)
        assert stage.render() != []
    finally:
        scene.teardown(stage)


def test_terminal_scene_log_option_default():
    scene = load_scene(SCENES / "terminal.py")
    parser = argparse.ArgumentParser()
    scene.add_arguments(parser)
    assert parser.parse_args([]).log == "/tmp/stream.log"
