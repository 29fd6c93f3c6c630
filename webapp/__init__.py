"""Wharf's Django site: records, permissions, jobs, pages, API."""
