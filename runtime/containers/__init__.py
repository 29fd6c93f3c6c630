"""Containers on one host: records, lifecycle, logs, exec, stats, commit, cleanup.

Use them through ``Runtime().containers`` (a ``ContainerManager``).
"""
