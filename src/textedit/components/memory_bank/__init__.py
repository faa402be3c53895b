"""Built-in memory banks."""
