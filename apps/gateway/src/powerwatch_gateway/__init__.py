"""Powerwatch Driver gateway: secure ingest of Driver readings that never loses one."""

__version__ = "0.1.0"
