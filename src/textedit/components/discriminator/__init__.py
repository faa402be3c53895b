"""Built-in discriminators."""
