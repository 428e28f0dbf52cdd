"""The sizing and scoring engine: pure functions from records to typed results. It knows nothing of HTML."""
