"""Property-based tests (hypothesis) of the readers, the CLI and the models."""
