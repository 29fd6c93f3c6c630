"""Pieces every REST endpoint shares: strict readers of what clients send."""
