"""Property: building v0..vn one run at a time gives the packs one run over every version gives."""

from __future__ import annotations

import shutil
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from packs import add_version

from dzbuild.pyramid.build import BuildOptions, build_pyramid
from dzbuild.testing import make_image_folder

COLS, ROWS = 9, 6  # 9x6 tiles of 64 pixels: levels above the low ones, blocks with edges

histories = st.lists(  # each version: the (col, row) of the tiles it changes
    st.sets(st.tuples(st.integers(0, COLS - 1), st.integers(0, ROWS - 1)), min_size=1, max_size=6),
    min_size=1,
    max_size=3,
)


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=histories)
def test_one_version_at_a_time_equals_every_version_at_once(tmp_path_factory, history):
    work = tmp_path_factory.mktemp("history")
    image = make_image_folder(work / "step", COLS * 64 - 5, ROWS * 64 - 20, 64, seed=len(history))
    options = BuildOptions(jobs=1, formats=("pmtiles",))
    build_pyramid(image, options=options)
    for number, tiles in enumerate(history, start=1):
        add_version(image, number, sorted(tiles), seed=number)
        build_pyramid(image, options=options)
    scratch = shutil.copytree(image, work / "scratch", ignore=lambda where, names: {"dest"} & set(names))
    build_pyramid(scratch, options=options)
    assert tree(image / "dest" / "pmtiles") == tree(scratch / "dest" / "pmtiles")
    indexes = sorted(name for name in tree(scratch / "dest" / "pmtiles") if name.endswith("/index.json"))
    assert indexes == [f"v{number}/index.json" for number in range(len(history) + 1)]
