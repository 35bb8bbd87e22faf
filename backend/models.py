"""Imports every module that defines tables, so Alembic and tests see the whole schema.

The shared tables are `core.models`; the others live with the one package that reads them.
"""

from accounts import accounts as account_models
from accounts import audit as audit_models
from bot import conversation as conversation_models
from bot import wechat_store as wechat_models
from core import ratelimit as ratelimit_models
from core import tokens as token_models
from core.models import feedback as feedback_models
from core.models import photos as photo_models
from core.models import public_version as public_version_models
from core.models import registry as registry_models
from core.models import reviews as review_models
from core.models import staff as staff_models

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
