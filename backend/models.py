"""Imports every module that defines tables, so Alembic and tests see the whole schema."""

from backend import accounts as account_models
from backend import audit as audit_models
from backend import ratelimit as ratelimit_models
from backend import tokens as token_models
from bot import conversation as conversation_models
from bot import wechat_store as wechat_models
from registry import feedback as feedback_models
from registry import models as registry_models
from registry import outlet_photos as photo_models
from registry import public_version as public_version_models
from registry import reviews as review_models
from registry import staff as staff_models

__all__ = [
    "account_models",
    "audit_models",
    "conversation_models",
    "feedback_models",
    "photo_models",
    "public_version_models",
    "ratelimit_models",
    "registry_models",
    "review_models",
    "staff_models",
    "token_models",
    "wechat_models",
]
