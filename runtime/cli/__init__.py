"""The ``wharf`` command: docker's verbs and flags on top of ``runtime``."""
