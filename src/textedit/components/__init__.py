"""Built-in components, one module per implementation; importing this registers them."""
