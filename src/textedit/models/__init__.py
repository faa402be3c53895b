"""Built-in compositions and presets; importing this registers them."""
