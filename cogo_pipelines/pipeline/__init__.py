"""The application layer: orchestrates the core (indexing, store, queue, quality) for every face
(CLI, Dagster, the sidecar). No SQL, no HTTP; the faces call it and never each other."""
