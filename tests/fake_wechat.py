"""A small fake of WeChat's server API on loopback, for the real wechatpy client to talk to.

It answers the two calls mini-program sign-in makes, with WeChat's documented
shapes (https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/user-login/code2Session.html):

- `GET /cgi-bin/token` → `{access_token, expires_in}`, or errcode 40013/40125 for a
  wrong appid/secret (wechatpy asks for a token before any call);
- `GET /cgi-bin/ticket/getticket?type=jsapi` → `{ticket, expires_in}` for the token above
  (the official account's JS-SDK ticket);
- `GET /sns/jscode2session` → `{openid, session_key}` for a code handed out with
  `issue_code`, once (a second use is errcode 40163); an unknown code is 40029;
  the special codes `RATE_LIMITED`, `HIGH_RISK`, `BUSY` give 45011, 40226, -1;
  `BROKEN` answers HTTP 500 with an HTML page.

It records the paths it was asked, so tests can check what went over the wire.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

APPID = "wx0123456789abcdef"
SECRET = "0123456789abcdef0123456789abcdef"
JSAPI_TICKET = (
    "sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg"
)
SPECIAL = {
    "RATE_LIMITED": {"errcode": 45011, "errmsg": "api minute-quota reach limit"},
    "HIGH_RISK": {"errcode": 40226, "errmsg": "high risk user"},
    "BUSY": {"errcode": -1, "errmsg": "system error"},
}


class FakeWeChat:
    def __init__(self) -> None:
        self.codes: dict[str, str] = {}
        self.used: set[str] = set()
        self.requests: list[str] = []
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}/"

    def issue_code(self, openid: str) -> str:
        """What `wx.login()` would give the user `openid`."""
        code = secrets.token_hex(16)
        with self.lock:
            self.codes[code] = openid
        return code

    def _answer(self, path: str, query: dict[str, list[str]]) -> tuple[int, Any]:
        arg = {k: v[0] for k, v in query.items()}
        good_app = arg.get("appid") == APPID and arg.get("secret") == SECRET
        if path == "/cgi-bin/token":
            if arg.get("appid") != APPID:
                return 200, {"errcode": 40013, "errmsg": "invalid appid"}
            if arg.get("secret") != SECRET:
                return 200, {"errcode": 40125, "errmsg": "invalid appsecret"}
            return 200, {"access_token": "fake-access-token", "expires_in": 7200}
        if path == "/cgi-bin/ticket/getticket":
            if arg.get("access_token") != "fake-access-token" or arg.get("type") != "jsapi":
                return 200, {"errcode": 40001, "errmsg": "invalid credential"}
            return 200, {"errcode": 0, "errmsg": "ok", "ticket": JSAPI_TICKET, "expires_in": 7200}
        if path == "/sns/jscode2session":
            code = arg.get("js_code", "")
            if not good_app:
                return 200, {"errcode": 40125, "errmsg": "invalid appsecret"}
            if code == "BROKEN":
                return 500, "<html>502 Bad Gateway</html>"
            if code in SPECIAL:
                return 200, SPECIAL[code]
            with self.lock:
                if code in self.used:
                    return 200, {"errcode": 40163, "errmsg": "code been used"}
                openid = self.codes.pop(code, None)
                if openid is not None:
                    self.used.add(code)
            if openid is None:
                return 200, {"errcode": 40029, "errmsg": "invalid code"}
            return 200, {"openid": openid, "session_key": secrets.token_urlsafe(16)}
        return 404, {"errcode": 404, "errmsg": "not found"}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urlsplit(self.path)
                with fake.lock:
                    fake.requests.append(self.path)
                status, body = fake._answer(url.path, parse_qs(url.query))
                data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                """No access log on stderr: tests read `fake.requests` instead."""

        return Handler


@contextmanager
def fake_wechat() -> Iterator[FakeWeChat]:
    fake = FakeWeChat()
    fake.thread.start()
    try:
        yield fake
    finally:
        fake.server.shutdown()
        fake.server.server_close()
