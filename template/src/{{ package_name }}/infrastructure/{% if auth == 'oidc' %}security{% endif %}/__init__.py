"""Access tokens from an external identity provider: its signing keys and their checks."""
