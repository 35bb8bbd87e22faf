"""The professional API (《金融数据汇》, prefix /api/pro/v1): PBoC offices and institutions.

The views are one module per area, registered here; what every view uses to authenticate,
filter and audit the same way is `pro_api.access`.
"""

from __future__ import annotations

from flask_smorest import Api

from pro_api.access import PREFIX


def register(api: Api) -> None:
    from pro_api.accounts import blp as accounts_blp
    from pro_api.audit_log import blp as audit_blp
    from pro_api.auth import blp as auth_blp
    from pro_api.error_reports import blp as error_reports_blp
    from pro_api.quality import blp as quality_blp
    from pro_api.registry_views import blp as registry_blp
    from pro_api.reviews import blp as reviews_blp
    from pro_api.rollout import blp as rollout_blp
    from pro_api.tasks import blp as tasks_blp
    from pro_api.updates import blp as updates_blp

    api.spec.components.security_scheme(
        "proToken",
        {
            "type": "http",
            "scheme": "bearer",
            "description": "the token of POST /api/pro/v1/auth/login (expires, revocable)",
        },
    )
    for blp in (
        auth_blp,
        accounts_blp,
        audit_blp,
        registry_blp,
        updates_blp,
        tasks_blp,
        reviews_blp,
        error_reports_blp,
        quality_blp,
        rollout_blp,
    ):
        api.register_blueprint(blp, url_prefix=PREFIX)
