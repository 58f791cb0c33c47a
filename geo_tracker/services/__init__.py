"""Use cases: one function each, called alike by the CLI, the HTTP service and the maps."""
