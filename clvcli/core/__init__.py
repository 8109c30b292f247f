"""Customer summaries, historical CLV and the computations behind every command."""
