"""``dzbuild ingest``: a new folder gets v0, a changed picture gets a version of only the changed tiles."""

from __future__ import annotations

import json
import subprocess
import sys

import cv2
import numpy as np
import pytest
from test_rasters import write_pnm

from dzbuild.errors import ConfigError, SourceError
from dzbuild.io import codec
from dzbuild.pyramid.build import BuildOptions, build_pyramid
from dzbuild.pyramid.ingest import ingest
from dzbuild.testing import synthetic_image


def tile_names(folder):
    return sorted(path.name for path in folder.iterdir())


def test_a_new_folder_gets_pyramid_json_and_a_complete_v0(tmp_path):
    pixels = synthetic_image(700, 300)
    cv2.imwrite(str(tmp_path / "pic.png"), pixels)
    report = ingest(tmp_path / "pic.png", tmp_path / "img", tile_size=256, fmt="png")
    assert (report.version, report.written, report.unchanged) == (0, 6, 0)
    spec = json.loads((tmp_path / "img/pyramid.json").read_text())
    assert spec == {"width": 700, "height": 300, "tile_size": 256, "overlap": 0, "format": "png", "quality": 85}
    assert tile_names(tmp_path / "img/v0") == ["0_0.png", "0_1.png", "1_0.png", "1_1.png", "2_0.png", "2_1.png"]
    corner = codec.decode((tmp_path / "img/v0/2_1.png").read_bytes())
    assert np.array_equal(corner, pixels[256:300, 512:700])  # png: the exact pixels, edge tile 188x44


def test_the_same_picture_again_writes_nothing(tmp_path):
    cv2.imwrite(str(tmp_path / "pic.png"), synthetic_image(600, 400))
    ingest(tmp_path / "pic.png", tmp_path / "img")
    again = ingest(tmp_path / "pic.png", tmp_path / "img")
    assert (again.version, again.written, again.unchanged) == (None, 0, 6)
    assert sorted(p.name for p in (tmp_path / "img").iterdir()) == ["pyramid.json", "v0"]


@pytest.mark.parametrize("fmt", ["jpg", "png", "webp"])
def test_an_edited_picture_becomes_a_patch_of_the_changed_tiles(tmp_path, fmt):
    pixels = synthetic_image(600, 400, seed=1)
    cv2.imwrite(str(tmp_path / "a.png"), pixels)
    ingest(tmp_path / "a.png", tmp_path / "img", fmt=fmt)
    pixels[300:310, 250:270] = (0, 0, 255)  # a red mark across the border of columns 0 and 1, row 1
    write_pnm(tmp_path / "b.ppm", pixels)
    report = ingest(tmp_path / "b.ppm", tmp_path / "img")
    assert (report.version, report.written, report.unchanged) == (1, 2, 4)
    assert tile_names(tmp_path / "img/v1") == [f"0_1.{fmt}", f"1_1.{fmt}"]
    build_pyramid(tmp_path / "img", options=BuildOptions(jobs=1))  # the patch publishes like hand-cut tiles
    assert (tmp_path / "img/dest/dzi/v1/dzi.xml").is_file()


def test_tiles_another_encoder_wrote_count_as_unchanged_when_their_pixels_are(tmp_path):
    pixels = synthetic_image(300, 200, seed=2)
    cv2.imwrite(str(tmp_path / "a.png"), pixels)
    ingest(tmp_path / "a.png", tmp_path / "img", fmt="png")
    tile = tmp_path / "img/v0/0_0.png"
    recompressed = cv2.imencode(".png", codec.decode(tile.read_bytes()), [cv2.IMWRITE_PNG_COMPRESSION, 1])[1]
    assert recompressed.tobytes() != tile.read_bytes()
    tile.write_bytes(recompressed.tobytes())
    assert ingest(tmp_path / "a.png", tmp_path / "img").version is None


def test_tolerance_accepts_small_differences(tmp_path):
    pixels = synthetic_image(300, 200, seed=2)
    cv2.imwrite(str(tmp_path / "a.png"), pixels)
    ingest(tmp_path / "a.png", tmp_path / "img", fmt="png")
    cv2.imwrite(str(tmp_path / "b.png"), np.clip(pixels.astype(int) + 1, 0, 255).astype(np.uint8))
    assert ingest(tmp_path / "b.png", tmp_path / "img", tolerance=1).version is None
    assert ingest(tmp_path / "b.png", tmp_path / "img").written == 2


def test_a_size_change_is_refused(tmp_path):
    cv2.imwrite(str(tmp_path / "a.png"), synthetic_image(300, 200))
    cv2.imwrite(str(tmp_path / "b.png"), synthetic_image(301, 200))
    ingest(tmp_path / "a.png", tmp_path / "img")
    with pytest.raises(SourceError, match="is 301x200 pixels but .*pyramid.json says 300x200"):
        ingest(tmp_path / "b.png", tmp_path / "img")
    with pytest.raises(ConfigError, match="'tile_size' is 256, so --tile-size 512 would change every tile"):
        ingest(tmp_path / "a.png", tmp_path / "img", tile_size=512)
    assert sorted(p.name for p in (tmp_path / "img").iterdir()) == ["pyramid.json", "v0"]


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ({"fmt": "gif"}, "--format must be one of jpg, png, webp (or jpeg), got 'gif'"),
        ({"tile_size": 0}, "--tile-size 0: 'tile_size' must be between 1 and 16777216, got 0"),
        ({"quality": 101}, "--quality 101: 'quality' must be between 1 and 100, got 101"),
    ],
    ids=["format", "tile-size", "quality"],
)
def test_a_bad_option_for_a_new_folder_names_the_option_and_leaves_nothing_behind(tmp_path, option, message):
    """Not the folder's pyramid.json, which does not exist: the option was wrong."""
    cv2.imwrite(str(tmp_path / "a.png"), synthetic_image(30, 20))
    with pytest.raises(ConfigError) as caught:
        ingest(tmp_path / "a.png", tmp_path / "img", **option)
    assert str(caught.value) == message
    assert not (tmp_path / "img").exists()


@pytest.mark.parametrize("spelling", ["jpeg", "JPEG", "JPG"])
def test_jpeg_is_the_jpg_format(tmp_path, spelling):
    cv2.imwrite(str(tmp_path / "a.png"), synthetic_image(300, 200))
    report = ingest(tmp_path / "a.png", tmp_path / "img", fmt=spelling)
    assert json.loads((tmp_path / "img" / "pyramid.json").read_text())["format"] == "jpg"
    assert tile_names(tmp_path / "img" / "v0") == ["0_0.jpg", "1_0.jpg"] and report.written == 2
    again = ingest(tmp_path / "a.png", tmp_path / "img", fmt=spelling)  # the same format as pyramid.json's
    assert (again.version, again.unchanged) == (None, 2)


def test_the_command_line_reports_what_it_wrote(tmp_path, capsys):
    from dzbuild import cli

    cv2.imwrite(str(tmp_path / "a.png"), synthetic_image(300, 200))
    assert cli.main(["ingest", str(tmp_path / "a.png"), str(tmp_path / "img"), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["version"], summary["written"], summary["unchanged"]) == (0, 2, 0)
    assert (summary["width"], summary["height"]) == (300, 200)
    assert cli.main(["ingest", str(tmp_path / "a.png"), str(tmp_path / "img")]) == 0
    assert capsys.readouterr().out == f"{tmp_path / 'img'}: no tile changed (2 compared); nothing written\n"
    assert cli.main(["ingest", str(tmp_path / "missing.png"), str(tmp_path / "img")]) == 3
    assert "missing.png: cannot read" in capsys.readouterr().err


def test_the_next_step_is_the_site_build_for_an_image_folder_of_a_site(tmp_path, capsys, monkeypatch):
    from dzbuild import cli

    cv2.imwrite(str(tmp_path / "a.png"), synthetic_image(300, 200))
    site = tmp_path / "my site"
    (site / "zoom").mkdir(parents=True)
    (site / "dzbuild.toml").write_text('source = "zoom"\noutput = "public"\n')
    monkeypatch.chdir(tmp_path)
    cases = {
        "my site/zoom/harbour": "dzbuild build 'my site'",  # the site's: its build publishes it
        "my site/elsewhere": "dzbuild pyramid 'my site/elsewhere'",  # outside the site's source
        "my site/public/x": "dzbuild pyramid 'my site/public/x'",  # in the site's output
        "loose": "dzbuild pyramid loose",
    }
    for folder, command in cases.items():
        assert cli.main(["ingest", "a.png", folder]) == 0
        out = capsys.readouterr().out
        assert out.endswith(f"; publish it with `{command}`\n"), out
    monkeypatch.chdir(site)
    assert cli.main(["ingest", str(tmp_path / "a.png"), "zoom/bay"]) == 0
    assert capsys.readouterr().out.endswith("; publish it with `dzbuild build`\n")


# -- A picture larger than 20,000 pixels a side -------------------------------------------------

WIDTH, HEIGHT, TILE = 20_100, 20_050, 512  # 40 x 40 tiles; the last column is 132 wide, the last row 82 tall
PEAK_LIMIT_MB = 300  # decoding it whole would take 20100 x 20050 x 3 bytes = 1.2 GB


def write_sparse_pgm(path, marks):
    """A PGM of zeros (a sparse file: no disk, no time) with ``marks``: (top, left, rows) -> value arrays."""
    header = b"P5\n%d %d\n255\n" % (WIDTH, HEIGHT)
    with open(path, "wb") as handle:
        handle.write(header)
        handle.truncate(len(header) + WIDTH * HEIGHT)
        for (top, left), block in marks.items():
            for offset, line in enumerate(block):
                handle.seek(len(header) + (top + offset) * WIDTH + left)
                handle.write(line.tobytes())


def run_ingest(*args) -> int:
    """Run ``dzbuild ingest`` in a fresh process; return its peak resident memory in MB."""
    code = (
        "import resource, sys; from dzbuild.cli import main; status = main(sys.argv[1:]);"
        " print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024, file=sys.stderr); sys.exit(status)"
    )
    done = subprocess.run([sys.executable, "-c", code, "ingest", *map(str, args)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return int(done.stderr.split()[-1])


def test_a_picture_larger_than_20000_pixels_a_side_is_cut_in_bounded_memory(tmp_path):
    # Marks of flat 8x8-aligned blocks, which JPEG keeps (almost) exactly: a stripe of 64-pixel bars
    # across the whole width, and a block in the bottom-right corner tile.
    bars = np.tile((np.arange(WIDTH) // 64 * 37 % 256).astype(np.uint8), (96, 1))
    corner = np.full((48, 96), 200, np.uint8)
    marks = {(10_000, 0): bars, (20_000, 20_000): corner}
    write_sparse_pgm(tmp_path / "big.pgm", marks)
    peak = run_ingest(tmp_path / "big.pgm", tmp_path / "img", "--tile-size", TILE)
    assert peak < PEAK_LIMIT_MB, f"peak memory {peak} MB"
    v0 = tmp_path / "img/v0"
    assert len(list(v0.iterdir())) == 40 * 40
    striped = codec.decode((v0 / "1_19.jpg").read_bytes())[:, :, 0].astype(int)  # rows 9728.., columns 512..
    assert np.abs(striped[272:368] - bars[:, 512:1024]).max() <= 2 and striped[:264].max() <= 2
    last = codec.decode((v0 / "39_39.jpg").read_bytes())[:, :, 0].astype(int)  # rows and columns 19968..
    assert last.shape == (82, 132)
    assert np.abs(last[32:80, 32:128] - 200).max() <= 2 and last[:24].max() <= 2

    marks[(5_000, 7_000)] = np.full((8, 96), 255, np.uint8)
    write_sparse_pgm(tmp_path / "big.pgm", marks)
    peak = run_ingest(tmp_path / "big.pgm", tmp_path / "img")
    assert peak < PEAK_LIMIT_MB, f"peak memory {peak} MB"
    assert tile_names(tmp_path / "img/v1") == ["13_9.jpg"]  # rows 4608..5119, columns 6656..7167


@pytest.mark.parametrize(
    ("make", "said"),
    [
        (lambda p: (p.astype(np.uint16) * 257), "16-bit channels scaled to 8 bits"),
        (lambda p: np.dstack([p, np.full(p.shape[:2], 128, np.uint8)]), "its alpha channel dropped (not blended)"),
    ],
    ids=["16-bit", "alpha"],
)
def test_a_picture_that_is_not_8_bit_rgb_is_converted_with_a_warning(tmp_path, make, said):
    picture = tmp_path / "scan.png"
    cv2.imwrite(str(picture), make(synthetic_image(200, 120, seed=5)))
    done = subprocess.run(
        [sys.executable, "-m", "dzbuild", "ingest", str(picture), str(tmp_path / "img"), "--tile-size", "64"],
        capture_output=True, text=True,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == f"dzbuild: warning: {picture}: tiles cut with {said}\n"
    assert len(list((tmp_path / "img" / "v0").iterdir())) == 8
