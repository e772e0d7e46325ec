"""The adoption charts (pure Altair over the metrics' frames)."""
