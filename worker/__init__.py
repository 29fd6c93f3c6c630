"""The host side of Wharf: one Celery worker per host runs jobs through ``runtime``."""
