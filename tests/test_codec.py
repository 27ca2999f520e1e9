"""The codec's libjpeg warning capture: per decode, or once for a worker's whole unit."""

from __future__ import annotations

import os

import pytest

from dzbuild.errors import SourceError
from dzbuild.io import codec
from dzbuild.testing import synthetic_image


def corrupt(data: bytes) -> bytes:
    """Half the compressed data gone, the end-of-image marker kept: libjpeg only warns."""
    scan = data.index(b"\xff\xda")
    return data[: scan + (len(data) - scan) // 2] + b"\xff\xd9"


GOOD = codec.encode(synthetic_image(64, 64, seed=1), "jpg", 85)


@pytest.mark.parametrize("batched", [False, True])
def test_a_libjpeg_warning_fails_its_own_tile_and_no_other(batched, capfd):
    def decode_all():
        assert codec.decode_half(GOOD, "good.jpg").shape == (32, 32, 3)
        with pytest.raises(SourceError) as caught:
            codec.decode_half(corrupt(GOOD), "bad.jpg")
        assert str(caught.value).startswith("bad.jpg: is corrupt (libjpeg: Corrupt JPEG data")
        assert codec.decode(GOOD, "good-again.jpg").shape == (64, 64, 3)  # nothing left over from the bad one

    if batched:
        with codec.libjpeg_warnings_captured():
            decode_all()
    else:
        decode_all()
    assert "Corrupt JPEG" not in capfd.readouterr().err  # the user sees the one-line error, not libjpeg


def test_other_output_on_stderr_during_a_batch_still_reaches_stderr(capfd):
    with codec.libjpeg_warnings_captured():
        os.write(2, b"a message from elsewhere\n")
        codec.decode_half(GOOD, "good.jpg")  # passes the stray text on rather than blaming the tile
        os.write(2, b"and another\n")
    assert capfd.readouterr().err == "a message from elsewhere\nand another\n"
