"""Built-in text encoders."""
