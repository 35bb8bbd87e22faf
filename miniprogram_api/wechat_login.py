"""Mini-program sign-in: a `wx.login()` code exchanged for the user's openid (code2Session).

The call goes through wechatpy's own client (`WeChatClient.wxa.code_to_session`)
with its base URL taken from configuration, so tests and private deployments
can point it at another server (the tests run a fake WeChat on loopback).
wechatpy attaches an access token to every call and fetches it from a fixed
api.weixin.qq.com address; `WeChatApiClient` fetches it from the configured base too.

WeChat's refusals become `LoginFailed` with an HTTP status for our client:
an invalid or used code is the user's problem (401), WeChat's rate limit is
429, a user WeChat flags as high-risk is 403, and WeChat being down or
unreachable is 503 — never a 500 and never WeChat's raw error text. The openid
is returned to the caller only; nothing here logs it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import requests
from wechatpy import WeChatClient
from wechatpy.exceptions import APILimitedException, WeChatClientException

INVALID_CODE = (40029, 40163)  # invalid code; code already used
HIGH_RISK = 40226
RATE_LIMITED = 45011


class LoginFailed(Exception):
    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.message = message


class WeChatApiClient(WeChatClient):  # type: ignore[misc]  # wechatpy is untyped
    def __init__(
        self, appid: str, secret: str, base_url: str, timeout: float, session: Any = None
    ) -> None:
        super().__init__(appid, secret, timeout=timeout, session=session)
        self.base_url = base_url
        self.API_BASE_URL = base_url + "cgi-bin/"
        self.wxa.API_BASE_URL = base_url

    def fetch_access_token(self) -> Any:
        return self._fetch_access_token(
            url=self.base_url + "cgi-bin/token",
            params={
                "grant_type": "client_credential",
                "appid": self.appid,
                "secret": self.secret,
            },
        )


@dataclass
class MiniProgramLogin:
    appid: str
    secret: str
    base_url: str = "https://api.weixin.qq.com/"
    timeout_s: float = 3.0

    def __post_init__(self) -> None:
        if not self.base_url.endswith("/"):
            self.base_url += "/"
        self._local = threading.local()

    @property
    def configured(self) -> bool:
        return bool(self.appid and self.secret)

    def _client(self) -> WeChatApiClient:
        # requests.Session is not documented as thread-safe: one client per thread.
        client: WeChatApiClient | None = getattr(self._local, "client", None)
        if client is None:
            client = WeChatApiClient(self.appid, self.secret, self.base_url, self.timeout_s)
            self._local.client = client
        return client

    def openid(self, code: str) -> str:
        """The openid of the user who got `code` from `wx.login()`."""
        if not self.configured:
            raise LoginFailed(
                503, "not_configured", "微信登录未配置 / WeChat sign-in is not configured"
            )
        try:
            answer = self._client().wxa.code_to_session(code)
        except APILimitedException as exc:
            raise LoginFailed(
                429, "wechat_rate_limited", "微信登录繁忙，请稍后再试 / WeChat rate limit, retry"
            ) from exc
        except WeChatClientException as exc:
            raise _refusal(exc.errcode) from exc
        except (requests.RequestException, ValueError) as exc:
            raise LoginFailed(
                503, "wechat_unreachable", "暂时无法连接微信，请稍后再试 / WeChat is unreachable"
            ) from exc
        openid = answer.get("openid") if isinstance(answer, dict) else None
        if not isinstance(openid, str) or not openid:
            raise LoginFailed(
                503, "wechat_bad_answer", "微信登录暂时不可用 / WeChat gave no openid"
            )
        return openid


def _refusal(errcode: int | None) -> LoginFailed:
    if errcode is None:  # an HTTP error, not an answer: WeChat (or a proxy) is in trouble
        return LoginFailed(
            503, "wechat_unreachable", "暂时无法连接微信，请稍后再试 / WeChat is unreachable"
        )
    if errcode in INVALID_CODE:
        return LoginFailed(
            401, "invalid_code", "登录凭证无效或已使用，请重新登录 / invalid or used login code"
        )
    if errcode == RATE_LIMITED:
        return LoginFailed(
            429, "wechat_rate_limited", "微信登录繁忙，请稍后再试 / WeChat rate limit, retry"
        )
    if errcode == HIGH_RISK:
        return LoginFailed(403, "high_risk_user", "微信拒绝了该用户的登录 / WeChat refused user")
    return LoginFailed(
        503, "wechat_error", f"微信登录暂时不可用（{errcode}）/ WeChat sign-in failed ({errcode})"
    )
