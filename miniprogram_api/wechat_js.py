"""`GET /api/mp/v1/wechat/js-config`: the official account's JS-SDK config for the H5 page.

Inside WeChat the page opens the map app with `wx.openLocation`, which the JS-SDK allows
only after `wx.config` with a signature of the page's URL made from the official
account's jsapi_ticket (the secret never reaches the browser). The ticket and the access
token behind it come through wechatpy from the configured WeChat server (the tests run
a fake one on loopback), held by a storage that every thread of the process shares, so
each is fetched once per its lifetime (two hours) and not once per request: WeChat
limits how often they may be fetched.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import marshmallow as ma
import requests
from flask import current_app, request
from flask.views import MethodView
from flask_smorest import abort
from wechatpy.exceptions import WeChatClientException
from wechatpy.session.memorystorage import MemoryStorage

from core.config import Config
from miniprogram_api.wechat_login import WeChatApiClient
from web.public_blueprint import PublicBlueprint

JS_APIS = ("openLocation",)
EXTENSION = "branchfinder.wechat_js"

blp = PublicBlueprint(
    "wechat_js", __name__, description="公众号网页：JS-SDK 签名 / the H5 page's WeChat JS-SDK"
)


@dataclass
class JsSdkSigner:
    appid: str
    secret: str
    base_url: str
    timeout_s: float
    _storage: MemoryStorage = field(default_factory=MemoryStorage, repr=False)
    _local: threading.local = field(default_factory=threading.local, repr=False)

    @property
    def configured(self) -> bool:
        return bool(self.appid and self.secret)

    def _client(self) -> WeChatApiClient:
        # requests.Session is not thread-safe: a client per thread, one storage for all
        client: WeChatApiClient | None = getattr(self._local, "client", None)
        if client is None:
            base = self.base_url if self.base_url.endswith("/") else self.base_url + "/"
            client = WeChatApiClient(self.appid, self.secret, base, self.timeout_s, self._storage)
            self._local.client = client
        return client

    def config(self, url: str) -> dict[str, Any]:
        """What `wx.config` takes for the page at `url` (without its #fragment)."""
        client = self._client()
        ticket = client.jsapi.get_jsapi_ticket()
        nonce = secrets.token_hex(8)
        timestamp = int(time.time())
        return {
            "appId": self.appid,
            "timestamp": timestamp,
            "nonceStr": nonce,
            "signature": client.jsapi.get_jsapi_signature(nonce, ticket, timestamp, url),
            "jsApiList": list(JS_APIS),
        }


def init_js_sdk(app: Any, config: Config) -> None:
    app.extensions[EXTENSION] = JsSdkSigner(
        config.wechat_appid,
        config.wechat_secret,
        config.wechat_api_base_url,
        config.wechat_api_timeout_s,
    )


class JsConfigArgs(ma.Schema):
    url = ma.fields.String(
        required=True,
        validate=ma.validate.Length(1, 1000, error="url 应为 1–1000 个字符"),
        metadata={"description": "the page's own URL, without its #fragment"},
    )


class JsConfigSchema(ma.Schema):
    appId = ma.fields.String()  # the JS-SDK's own names
    timestamp = ma.fields.Integer()
    nonceStr = ma.fields.String()
    signature = ma.fields.String()
    jsApiList = ma.fields.List(ma.fields.String())


@blp.route("/wechat/js-config")
class JsConfig(MethodView):
    @blp.arguments(JsConfigArgs, location="query")
    @blp.response(200, JsConfigSchema)
    @blp.alt_response(422, description="url 不是本站网页 / not a page of this site")
    @blp.alt_response(503, description="公众号未配置或微信不可用 / not configured or unreachable")
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """微信 JS-SDK 配置 — the signed `wx.config` for a page of this site, so that inside
        WeChat it can open the map app at an outlet (`wx.openLocation`)."""
        url = args["url"]
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or parts.netloc != request.host or parts.fragment:
            abort(
                422,
                errors={"query": {"url": ["应为本站网页的地址（不含 #）/ a page of this site"]}},
                message="url 不是本站网页 / not a page of this site",
            )
        signer: JsSdkSigner = current_app.extensions[EXTENSION]
        if not signer.configured:
            abort(503, message="公众号未配置 / the official account is not configured")
        try:
            return signer.config(url)
        except (WeChatClientException, requests.RequestException, KeyError, ValueError):
            abort(503, message="暂时无法连接微信，请稍后再试 / WeChat is unreachable")
            raise
