"""Pages package."""
