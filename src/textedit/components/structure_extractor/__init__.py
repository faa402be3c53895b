"""Built-in structure extractors."""
