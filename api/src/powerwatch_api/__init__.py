"""Powerwatch events API: Litestar over Azure Data Explorer or the embedded engine."""

from powerwatch_api.app import create_app
from powerwatch_api.settings import Settings

__all__ = ["Settings", "create_app"]
