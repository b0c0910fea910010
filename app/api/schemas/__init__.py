"""Request and response bodies of the public API, one module per resource (no table classes)."""
