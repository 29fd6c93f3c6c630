"""Dockerfile builds: parse, expand, and run each step into a cached image layer."""
