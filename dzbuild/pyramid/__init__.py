"""One image's incremental pyramid: spec, sources, the pure planner, compute, overlap, publication, state, the build."""
