"""Imports every module that defines tables, so Alembic and tests see the whole schema."""

from registry import models as registry_models

__all__ = ["registry_models"]
