"""Turn measurements into the table of medians and the verdict on each target of ``bench/run.py``."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from .suite import SizeResult

LABELS = {
    "full": "dzbuild pyramid (full build)",
    "vips": "vips dzsave (whole JPEG)",
    "version": "dzbuild --version",
    "cp_al": "cp -al of the previous version",
    "noop": "dzbuild rerun, nothing new",
    "patch": "dzbuild one-tile patch (v1)",
    "jobs1": "dzbuild full build --jobs 1",
}
PEAK_MB = 80
COLUMNS = ("wall", "min", "max", "user", "sys", "peakRSS", "parent", "worker")


@dataclass
class Verdict:
    target: str
    met: bool | None  # None: not measured in this run
    detail: str

    def line(self) -> str:
        mark = {True: "MET", False: "NOT MET", None: "SKIPPED"}[self.met]
        return f"{self.target:<10} {mark:<8} {self.detail}"


def median(result: SizeResult, op: str, key: str = "wall") -> float | None:
    values = [getattr(run, key) for run in result.runs[op] if getattr(run, key) is not None]
    return statistics.median(values) if values else None


def table(result: SizeResult) -> str:
    """Medians (and spread) of every operation at one size."""
    n = max(len(runs) for runs in result.runs.values())
    lines = [
        f"== {result.size}x{result.size}: {result.total_tiles} tiles ({result.upper_tiles} above the base), "
        f"median of {n}; load before/after: {result.load[0]} / {result.load[-1]}",
        f"{'operation (seconds, MB)':<34}" + "".join(f" {name:>7}" for name in COLUMNS),
    ]
    for op, label in LABELS.items():
        runs = result.runs[op]
        if not runs:
            continue
        walls = [r.wall for r in runs]
        lines.append(
            f"{label:<34} {median(result, op):7.3f} {min(walls):7.3f} {max(walls):7.3f}"
            f" {median(result, op, 'user'):7.3f} {median(result, op, 'sys'):7.3f}"
            + "".join(f" {_mb(median(result, op, key))}" for key in ("peak_mb", "parent_mb", "worker_mb"))
        )
    floor = result.floor
    if floor:
        lines.append(
            f"codec floor, 1 core: {floor.one_core:.3f} s (decode {floor.base_tiles} base tiles {floor.decode:.3f} s"
            f" + encode {floor.upper_tiles} upper tiles {floor.encode:.3f} s); with half-size DCT decode:"
            f" {floor.one_core_half:.3f} s (decode {floor.decode_half:.3f} s)"
        )
        lines.append(
            f"design floor of the dct resampler, 1 core: {floor.design:.3f} s (+ half-size decode of the"
            f" {floor.upper_tiles - 1} upper tiles that parents read back: {floor.decode_upper:.3f} s)"
        )
    full = median(result, "full")
    lines.append(f"time per tile (full build): {1000 * full / result.total_tiles:.4f} ms")
    lines += [f"FAILED {failure}" for failure in result.failures]
    probes = ", ".join(f"{ms:.3f}" for ms in result.create_ms)
    lines.append(f"cost of creating one new file before each repetition (ms): {probes}")
    return "\n".join(lines)


def psnr_table(result: SizeResult) -> str:
    names = list(result.psnr)
    lines = [f"== PSNR per level (dB) at {result.size}x{result.size}, against the exact float 2x2-mean pyramid",
             f"{'level':>5} {'size':>7} " + " ".join(f"{n:>14}" for n in names)]
    for level in range(len(result.psnr[names[0]])):
        size = result.size >> (len(result.psnr[names[0]]) - 1 - level)
        lines.append(f"{level:>5} {max(size, 1):>7} " + " ".join(f"{result.psnr[n][level]:>14.2f}" for n in names))
    return "\n".join(lines)


def _mb(value: float | None) -> str:
    return f"{value:7.1f}" if value is not None else f"{'-':>7}"


def verdicts(results: list[SizeResult], primary: SizeResult, cores: int, collections: Verdict) -> list[Verdict]:
    """Targets 1-7 (speed, patches, memory, scaling, quality, collections), each from ratios of this run."""
    return [
        _target1(primary, cores),
        _target2(primary),
        _target3(primary),
        _target4(results),
        _target5(results, primary),
        _target6(primary),
        collections,
    ]


def _target1(r: SizeResult, cores: int) -> Verdict:
    full, vips = median(r, "full"), median(r, "vips")
    ideal = r.floor.ideal(cores)
    cpu = median(r, "full", "user") + median(r, "full", "sys")
    parts = [
        f"full {full:.3f} s = {full / ideal:.2f} x codec floor ideal on {cores} cores ({ideal:.3f} s, <= 1.5)",
        f"CPU {cpu:.3f} s = {cpu / r.floor.one_core:.2f} x the 1-core floor ({r.floor.one_core:.3f} s),"
        f" {cpu / r.floor.design:.2f} x the dct design floor ({r.floor.design:.3f} s)",
    ]
    ok = full <= 1.5 * ideal
    if vips is None:
        return Verdict("1 full", None if ok else False, "; ".join(parts) + "; vips not run (pip install -e .[bench])")
    parts.insert(0, f"{full / vips:.3f} x vips dzsave ({vips:.3f} s, <= 0.25)")
    return Verdict("1 full", ok and full <= 0.25 * vips, "; ".join(parts))


def _target2(r: SizeResult) -> Verdict:
    patch, version, cp_al = median(r, "patch"), median(r, "version"), median(r, "cp_al")
    budget = 2 * version + cp_al
    computed = sorted(set(r.patch_computed))
    exact = computed == [r.patch_ancestors]
    detail = (
        f"patch {patch:.3f} s vs 2 x --version + cp -al = {budget:.3f} s (ratio {patch / budget:.2f});"
        f" 2 x (--version + cp -al) = {2 * (version + cp_al):.3f} s; computed {computed} tiles,"
        f" ancestors {r.patch_ancestors} (+1 changed base tile)"
    )
    return Verdict("2 patch", exact and patch <= budget, detail)


def _target3(r: SizeResult) -> Verdict:
    noop, version = median(r, "noop"), median(r, "version")
    detail = f"rerun {noop:.3f} s = {noop / version:.2f} x --version ({version:.3f} s, <= 1.5)"
    return Verdict("3 no-op", noop <= 1.5 * version, detail)


def _target4(results: list[SizeResult]) -> Verdict:
    peaks = {r.size: (median(r, "full", "parent_mb"), median(r, "full", "worker_mb") or 0.0) for r in results}
    worst = max(max(p) for p in peaks.values())
    text = ", ".join(f"{s}: parent {p:.1f} MB, worker {w:.1f} MB" for s, (p, w) in peaks.items())
    ok = worst <= PEAK_MB
    if len(peaks) < 2:
        detail = f"{text} (<= {PEAK_MB}); size ratio needs --sizes 8192,32768"
        return Verdict("4 memory", False if not ok else None, detail)
    small, large = peaks[min(peaks)], peaks[max(peaks)]
    ratios = [large[i] / small[i] for i in (0, 1) if small[i]]
    detail = f"{text}; peak ratio {max(peaks)} / {min(peaks)}: " + ", ".join(f"{x:.2f}" for x in ratios) + " (<= 1.1)"
    return Verdict("4 memory", ok and max(ratios) <= 1.1, detail)


def _target5(results: list[SizeResult], primary: SizeResult) -> Verdict:
    speedup = median(primary, "jobs1") / median(primary, "full")
    detail = f"--jobs 1 / --jobs 2 = {speedup:.2f} (>= 1.8) at {primary.size}"
    ok = speedup >= 1.8
    if len(results) < 2:
        return Verdict("5 scaling", False if not ok else None, detail + "; per-tile ratio needs --sizes 8192,32768")
    small, large = min(results, key=lambda r: r.size), max(results, key=lambda r: r.size)
    per_tile = {r.size: median(r, "full") / r.total_tiles for r in (small, large)}
    ratio = per_tile[large.size] / per_tile[small.size]
    detail += f"; time per tile {large.size} / {small.size} = {ratio:.3f} (<= 1.10)"
    return Verdict("5 scaling", ok and ratio <= 1.10, detail)


def _target6(r: SizeResult) -> Verdict:
    if not r.psnr or "vips dzsave" not in r.psnr:
        return Verdict("6 quality", None, "needs vips and the quality pass")
    vips = r.psnr["vips dzsave"]
    others = {name: values for name, values in r.psnr.items() if name != "vips dzsave"}
    gaps = {name: min(a - b for a, b in zip(values, vips, strict=True)) for name, values in others.items()}
    detail = "; ".join(f"{name}: worst level {gap:+.2f} dB vs vips (>= -1)" for name, gap in gaps.items())
    return Verdict("6 quality", gaps["dzbuild dct"] >= -1.0, detail + " (verdict on the default resampler, dct)")


def collection_verdict(timings) -> Verdict:
    """Target 7 from ``bench.collection.CollectionTimings``."""
    cheaper = timings.collection_seconds < timings.members_seconds
    bounded = timings.add_computed <= timings.max_level + 1
    detail = (
        f"shared tiles {timings.collection_seconds:.2f} s vs items' own pyramids {timings.members_seconds:.2f} s"
        f" ({timings.collection_seconds / timings.members_seconds:.2f}, < 1); adding one item computed at most"
        f" {timings.add_computed} tiles (<= MaxLevel+1 = {timings.max_level + 1})"
    )
    return Verdict("7 collect", cheaper and bounded, detail)
