"""Small helpers shared across textedit."""
