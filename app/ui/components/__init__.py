"""Components package."""
