"""Built-in localizers."""
