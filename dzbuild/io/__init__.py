"""Bytes in and out, one file at a time: tile codecs, picture readers, atomic writes and the build lock."""
