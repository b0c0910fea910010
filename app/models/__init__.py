"""Models package."""
