"""The command line: version, JSON summary, human output and exit codes, through the real entry point."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from imagedirs import add_version, base, make_image_dir

from dzbuild import __version__, cli
from dzbuild.io.lock import locked


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dzbuild", *args], capture_output=True, text=True, timeout=60)


def test_version():
    result = run_cli("--version")
    assert (result.returncode, result.stdout, result.stderr) == (0, f"dzbuild {__version__}\n", "")


def test_json_summary_shape(tmp_path, capsys):
    image_dir, spec, _ = make_image_dir(tmp_path, 750, 500, 250)
    add_version(image_dir, spec, 1, [base(spec, 1, 1)], seed=1)
    assert cli.main(["pyramid", str(image_dir), "--json", "-j", "1"]) == 0
    summary = json.loads(capsys.readouterr().out)
    keys = {"image", "dest", "published_before", "versions_built", "formats_backfilled", "tiles_computed"}
    assert set(summary) == keys | {"tiles_linked", "seconds", "executor", "workers"}
    assert (summary["executor"], summary["workers"]) == ("inline", 1)
    assert summary["formats_backfilled"] == []
    assert summary["image"] == str(image_dir) and summary["dest"] == str(image_dir / "dest")
    assert summary["published_before"] == 0 and summary["versions_built"] == [0, 1]
    assert summary["tiles_computed"] == 11 + 10 and summary["tiles_linked"] == 6 + 7
    assert isinstance(summary["seconds"], float) and summary["seconds"] >= 0
    assert cli.main(["pyramid", str(image_dir), "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert (again["published_before"], again["versions_built"], again["tiles_computed"]) == (2, [], 0)
    assert (again["executor"], again["workers"]) == (None, None)  # nothing to run: no executor opened


def test_human_output_through_the_real_command(tmp_path):
    image_dir, _, _ = make_image_dir(tmp_path, 750, 500, 250)
    dest = tmp_path / "site" / "pyramid"
    first = run_cli("pyramid", str(image_dir), "--dest", str(dest), "--storage", "copy")
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith(f"{image_dir}: published v0: 11 tiles computed, 6 linked in ")
    assert (dest / "dzi" / "v0" / "dzi.xml").is_file() and not (image_dir / "dest").exists()
    second = run_cli("pyramid", str(image_dir), "--dest", str(dest))
    assert (second.returncode, second.stdout) == (0, f"{image_dir}: up to date (v0..v0)\n")


def test_relative_paths_give_relative_symlinks(tmp_path):
    image_dir, spec, _ = make_image_dir(tmp_path, 300, 200, 64)
    add_version(image_dir, spec, 1, [base(spec, 0, 0)], seed=1)
    args = ["-m", "dzbuild", "pyramid", image_dir.name, "--dest", "out", "--storage", "symlink"]
    result = subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert result.returncode == 0, result.stderr
    links = [p for p in (tmp_path / "out").rglob("*.jpg") if p.is_symlink()]
    assert len(links) == 20 + 20 + 5 + 1  # base tiles of v0 and v1, and unchanged tiles of v1 at levels 8 and 7
    for link in links:
        assert not link.readlink().is_absolute()
        assert (link.parent / link.readlink()).is_file() and not (link.parent / link.readlink()).is_symlink()
    top = (tmp_path / "out" / "dzi" / "v1" / "dzi_files" / "9" / "0_0.jpg").readlink()
    assert (tmp_path / "out" / "dzi" / "v1" / "dzi_files" / "9" / top).resolve() == (image_dir / "v1" / "0_0.jpg")


@pytest.mark.parametrize("jobs", ["0", "-2"])
def test_jobs_below_one_are_rejected(tmp_path, capsys, jobs):
    image_dir, _, _ = make_image_dir(tmp_path, 10, 10, 10)
    assert cli.main(["pyramid", str(image_dir), "-j", jobs]) == 2
    err = capsys.readouterr().err
    assert err == f"dzbuild: error: --jobs must be at least 1, got {jobs}\n"
    assert not (image_dir / "dest").exists()


def test_exit_codes(tmp_path, capsys):
    image_dir, spec, _ = make_image_dir(tmp_path, 750, 500, 250)
    assert cli.main(["pyramid", str(tmp_path / "nowhere")]) == 2  # no pyramid.json
    assert cli.main(["pyramid", str(image_dir), "--storage", "ftp"]) == 2  # no such storage: a usage error
    assert cli.main(["pyramid", str(image_dir), "-j", "1"]) == 0
    (image_dir / "v2").mkdir()
    assert cli.main(["pyramid", str(image_dir)]) == 3  # v1 missing
    (image_dir / "v2").rmdir()
    (image_dir / "v0" / "0_0.jpg").unlink()
    assert cli.main(["pyramid", str(image_dir)]) == 4  # published v0 changed
    assert cli.main([]) == 2  # no command: help
    errors = capsys.readouterr().err.splitlines()
    assert len(errors) == 4 and all(line.startswith("dzbuild: error: ") for line in errors)


def test_bad_usage_exits_2_without_traceback():
    result = run_cli("pyramid")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "the following arguments are required: image_dir" in result.stderr


def test_a_locked_output_folder_exits_6(tmp_path):
    image_dir, _, _ = make_image_dir(tmp_path, 10, 10, 10)
    with locked(image_dir / "dest"):
        result = run_cli("pyramid", str(image_dir))
    assert result.returncode == 6 and "another dzbuild" in result.stderr and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1
    assert not (image_dir / "dest" / "dzi").exists()


def test_an_error_naming_unicode_on_an_ascii_terminal_is_one_escaped_line(tmp_path):
    import os
    import subprocess
    import sys

    folder = tmp_path / "ünï 😀"
    folder.mkdir()
    env = {**os.environ, "PYTHONIOENCODING": "ascii"}
    done = subprocess.run([sys.executable, "-m", "dzbuild", "pyramid", str(folder)], capture_output=True, env=env)
    err = done.stderr.decode("ascii")
    assert done.returncode == 2 and "Traceback" not in err, err
    assert err.count("\n") == 1 and "\\xfcn\\xef \\U0001f600/pyramid.json: missing" in err


def test_the_command_exits_normally_so_atexit_handlers_run(tmp_path):
    """The console script's own function, as the installed ``dzbuild`` calls it, with a handler a plugin could add."""
    marker = tmp_path / "atexit-ran"
    script = (
        "import atexit, pathlib, sys\n"
        f"atexit.register(pathlib.Path({str(marker)!r}).write_text, 'ran')\n"
        "sys.argv = ['dzbuild', 'pyramid', sys.argv[1]]\n"
        "from dzbuild.cli import console\n"
        "console()\n"
    )
    missing = tmp_path / "no-such-image"
    result = subprocess.run([sys.executable, "-c", script, str(missing)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr  # the exit code still comes through
    assert result.stderr.startswith("dzbuild: error:") and "Traceback" not in result.stderr
    assert marker.read_text() == "ran"

