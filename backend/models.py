"""Imports every module that defines tables, so Alembic and tests see the whole schema."""

from backend import ratelimit as ratelimit_models
from bot import conversation as conversation_models
from bot import wechat_store as wechat_models
from registry import feedback as feedback_models
from registry import models as registry_models

__all__ = [
    "conversation_models",
    "feedback_models",
    "ratelimit_models",
    "registry_models",
    "wechat_models",
]
