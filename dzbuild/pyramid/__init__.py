"""One image's incremental pyramid: spec, sources, the pure planner, compute, overlap, state, the build, the vacuum."""
