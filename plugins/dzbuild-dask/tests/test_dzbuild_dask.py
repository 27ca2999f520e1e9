"""dzbuild on a real LocalCluster: the same bytes as the fork pool and ``--jobs 1``, and one-line failures."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from dzbuild.cli import main
from dzbuild.errors import BuildError, SourceError
from dzbuild.plugins import registry
from dzbuild.pyramid.build import BuildOptions, build_pyramid
from dzbuild.testing import make_image_folder

REPO = Path(__file__).resolve().parents[3]


def files(folder: Path) -> dict[str, bytes]:
    """Every published file below ``folder`` (build state left out), by relative path."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not any(part.startswith(".dzbuild") for part in p.relative_to(folder).parts)
    }


def image_with_patch(folder: Path, overlap: int = 0) -> Path:
    """An image folder with a complete v0 (12 x 8 tiles of 128) and a v1 that changes two tiles."""
    make_image_folder(folder, 1500, 1000, 128, overlap=overlap, seed=5)
    (folder / "v1").mkdir()
    shutil.copyfile(folder / "v0" / "3_3.jpg", folder / "v1" / "0_0.jpg")
    shutil.copyfile(folder / "v0" / "2_5.jpg", folder / "v1" / "7_4.jpg")
    return folder


def build(image: Path, dest: Path, **options) -> dict:
    return build_pyramid(image, dest, BuildOptions(**options)).summary()


def cli(*args: str, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "dzbuild", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})})


def test_the_plugin_registers_the_dask_and_tls_executors():
    assert registry().get("executor", "dask").name == "dask"
    assert registry().get("executor", "tls").name == "tls"
    executor = registry().get("executor", "tls").open(None, "10.0.0.1:8786")
    assert executor.address == "tls://10.0.0.1:8786" and executor.workers is None  # nothing started yet


@pytest.mark.parametrize("overlap", [0, 1])
def test_a_pyramid_on_a_local_cluster_is_byte_identical_to_the_fork_pool_and_one_job(tmp_path, local_cluster, overlap):
    image = image_with_patch(tmp_path / "img", overlap)
    runs = {"inline": {"jobs": 1}, "fork": {"jobs": 2}, "dask": {"executor": f"dask://{local_cluster}"}}
    for name, options in runs.items():
        summary = build(image, tmp_path / name, **options)
        assert summary["versions_built"] == [0, 1]
        assert summary["executor"] == (options.get("executor") or name)
        assert summary["workers"] == (1 if name == "inline" else 2)
    expected = files(tmp_path / "inline")
    assert (
        len([rel for rel in expected if rel.startswith("dzi/v1/dzi_files/")]) == 12 * 8 + 6 * 4 + 3 * 2 + 2 + 8
    )  # every tile of levels 11 down to 0
    assert files(tmp_path / "fork") == expected
    assert files(tmp_path / "dask") == expected


def test_the_command_starts_and_stops_its_own_local_cluster(tmp_path):
    image = image_with_patch(tmp_path / "img")
    result = cli("pyramid", str(image), "--dest", str(tmp_path / "dask"), "--executor", "dask", "-j", "2", "--json")
    assert (result.returncode, result.stderr) == (0, "")  # no dashboard line off a terminal, no warnings
    summary = json.loads(result.stdout)
    assert (summary["executor"], summary["workers"], summary["versions_built"]) == ("dask", 2, [0, 1])
    build(image, tmp_path / "inline", jobs=1)
    assert files(tmp_path / "dask") == files(tmp_path / "inline")


def test_a_collection_on_dask_is_byte_identical(tmp_path, capsys, local_cluster):
    for name in ("inline", "dask"):
        folder = tmp_path / name
        for i, (w, h) in enumerate([(120, 80), (64, 200), (300, 300)]):
            make_image_folder(folder / "photos" / f"p{i}", w, h, 64, seed=i)
        (folder / "collection.toml").write_text('name = "holiday"\nimages = ["photos/*"]\n', encoding="utf-8")
    assert main(["collection", str(tmp_path / "inline"), "-j", "1"]) == 0
    capsys.readouterr()
    assert main(["collection", str(tmp_path / "dask"), "--executor", f"dask://{local_cluster}", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["executor"], summary["workers"]) == (f"dask://{local_cluster}", 2)
    assert summary["collection"]["tiles_computed"] > 0
    assert files(tmp_path / "dask") == files(tmp_path / "inline")


def test_the_example_site_on_dask_is_byte_identical(tmp_path, capsys, local_cluster):
    spec = importlib.util.spec_from_file_location("example_generate", REPO / "example_site" / "generate.py")
    generate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generate)
    for name in ("inline", "dask"):
        generate.generate(tmp_path / name)
    assert main(["build", str(tmp_path / "inline"), "-j", "1", "--progress", "quiet"]) == 0
    capsys.readouterr()
    assert main(["build", str(tmp_path / "dask"), "--executor", f"dask://{local_cluster}", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["executor"], summary["workers"], summary["images"]) == (f"dask://{local_cluster}", 2, 4)
    images = [built for built in summary["built"] if "image" in built]
    assert len(images) == 4 and all(built["executor"] == "inline" for built in images)  # each built whole on a worker
    expected = files(tmp_path / "inline" / "_site")
    assert any(rel.endswith(".dzc") for rel in expected) and any(rel.endswith("dzi.xml") for rel in expected)
    assert files(tmp_path / "dask" / "_site") == expected


def _break_units() -> None:
    from dzbuild.pyramid import compute

    def broken(*args, **kwargs):
        raise RuntimeError("the disk is on fire")

    compute._compute_before_test = compute._compute
    compute._compute = broken


def _mend_units() -> None:
    from dzbuild.pyramid import compute

    compute._compute = compute.__dict__.pop("_compute_before_test", compute._compute)


def test_a_unit_that_raises_abandons_the_version_in_one_line(tmp_path, capsys, local_cluster):
    import cloudpickle
    import distributed

    image = image_with_patch(tmp_path / "img")
    shutil.move(image / "v1", tmp_path / "v1")
    dest = tmp_path / "dest"
    build(image, dest, executor=f"dask://{local_cluster}")
    before = files(dest)
    shutil.move(tmp_path / "v1", image / "v1")
    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the workers cannot import this test module
    with distributed.Client(local_cluster, set_as_default=False) as client:
        client.run(_break_units)
        try:
            assert main(["pyramid", str(image), "--dest", str(dest), "--executor", f"dask://{local_cluster}"]) == 7
        finally:
            client.run(_mend_units)
            cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "RuntimeError: the disk is on fire" in err and local_cluster in err
    assert files(dest) == before and not list((dest / "dzi").glob(".v1*"))  # v0 intact, nothing of v1 left
    build(image, dest, executor=f"dask://{local_cluster}")
    build(image, tmp_path / "inline", jobs=1)
    assert files(dest) == files(tmp_path / "inline")


def test_a_bad_source_tile_is_the_error_the_fork_pool_gives(tmp_path, local_cluster):
    image = image_with_patch(tmp_path / "img")
    (image / "v1" / "0_0.jpg").write_bytes(b"\xff\xd8 not a jpeg")
    with pytest.raises(SourceError) as caught:
        build(image, tmp_path / "dest", executor=f"dask://{local_cluster}")
    assert str(image / "v1" / "0_0.jpg") in str(caught.value)
    assert (tmp_path / "dest" / "dzi" / "v0").is_dir() and not (tmp_path / "dest" / "dzi" / "v1").exists()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_unreachable_scheduler_is_one_line_within_the_timeout(tmp_path):
    image = image_with_patch(tmp_path / "img")
    address = f"127.0.0.1:{free_port()}"
    started = time.monotonic()
    timeout = {"DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "2s"}
    result = cli("pyramid", str(image), "--executor", f"dask://{address}", env=timeout)
    assert time.monotonic() - started < 60
    assert result.returncode == 7 and result.stderr.count("\n") == 1
    assert f"could not reach the Dask scheduler at tcp://{address}" in result.stderr
    assert not (image / "dest" / "dzi").exists()


def test_an_executor_that_was_closed_is_not_restarted(local_cluster):
    executor = registry().get("executor", "dask").open(None, local_cluster)
    with executor:
        assert executor.run(abs, [-3, 4]) == [3, 4]
    with pytest.raises(BuildError, match="closed"):
        executor.run(abs, [1])


class NotAScheduler:
    """A server on 127.0.0.1 that accepts connections but is no Dask scheduler: it ``answers`` with these
    bytes and hangs up, or (None) reads and says nothing, as a web server waiting for a request line does."""

    def __init__(self, answer: bytes | None) -> None:
        self.answer = answer
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.address = "127.0.0.1:%d" % self.sock.getsockname()[1]
        self.open: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:  # closed
                return
            self.open.append(conn)
            if self.answer is not None:
                conn.recv(4096)
                conn.sendall(self.answer)
                conn.close()

    def close(self) -> None:
        self.sock.close()
        for conn in self.open:
            conn.close()


@pytest.mark.parametrize(
    "answer",
    [None, b"HTTP/1.0 400 Bad Request\r\nContent-Length: 0\r\n\r\n", b""],
    ids=["silent", "http-400", "hangs-up"],
)
def test_a_server_that_is_not_a_scheduler_is_one_line_within_the_timeout(tmp_path, answer):
    image = image_with_patch(tmp_path / "img")
    server = NotAScheduler(answer)
    timeout = {"DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "2s"}
    started = time.monotonic()
    try:
        result = cli("pyramid", str(image), "--executor", f"dask://{server.address}", env=timeout, timeout=60)
    finally:
        server.close()
    assert time.monotonic() - started < 30  # the handshake waits twice the connect timeout at most
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert f"--executor: tcp://{server.address} answered, but not as a Dask scheduler" in result.stderr
    assert not (image / "dest").exists()


@pytest.mark.parametrize(
    ("address", "problem"),
    [
        ("127.0.0.1:abc", "the port must be a number from 1 to 65535"),
        ("127.0.0.1:99999", "the port must be a number from 1 to 65535"),
        ("127.0.0.1:0", "the port must be a number from 1 to 65535"),
        ("127.0.0.1:", "the port must be a number from 1 to 65535"),
        ("head-node", "the port is missing"),
        ("[::1:8786", "its brackets do not enclose an IPv6 address"),
        ("127.0.0.1:8786/scheduler", "it has a path, query or user name"),
        ("127.0.0.1:8786?secure=1", "it has a path, query or user name"),
        ("me@127.0.0.1:8786", "it has a path, query or user name"),
        (":8786", "the host is missing"),
        ("ftp://127.0.0.1:8786", "unknown address scheme 'ftp'"),
    ],
)
def test_a_malformed_address_is_a_usage_error_before_anything_starts(tmp_path, address, problem):
    image = image_with_patch(tmp_path / "img")
    result = cli("pyramid", str(image), "--executor", f"dask://{address}", timeout=60)
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("dzbuild: error: --executor: ")
    assert "is not a Dask scheduler's address" in result.stderr and problem in result.stderr
    assert not (image / "dest").exists()


def test_a_well_formed_address_is_kept_as_given():
    provider = registry().get("executor", "dask")
    assert provider.open(None, "[::1]:8786").address == "tcp://[::1]:8786"
    assert provider.open(None, "tls://head-node:8786").address == "tls://head-node:8786"
    assert registry().get("executor", "tls").open(None, "head-node:1").address == "tls://head-node:1"
