"""Looking after published versions: `dzbuild check` (what is on disk is what the records say)."""
