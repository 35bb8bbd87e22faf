"""A NUL character (which PostgreSQL text cannot hold) in any public input is a 4xx, not a 500."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

MP = "/api/mp/v1"


@pytest.mark.parametrize(
    "url",
    [
        f"{MP}/outlets/%00abc",
        f"{MP}/outlets/C1010432000352%00",
        f"{MP}/outlets/search?q=%00",
        f"{MP}/outlets/search?q=%E5%B7%A5%E8%A1%8C%00",
        f"{MP}/outlets/nearby?lat=32.04&lng=118.78&institution=%00",
        f"{MP}/outlets/nearby?lat=32.04&lng=118.78&business_type=%00",
        f"{MP}/outlets/nearby?lat=32.04&lng=118.78&cursor=%00",
        f"{MP}/institutions?category=%00",
        f"{MP}/regions?parent=%00",
        f"{MP}/photos/%00/thumb.jpg",
    ],
)
def test_nul_in_a_public_query_is_not_a_server_error(client: FlaskClient, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 422, (url, response.status_code, response.get_data())
    assert "NUL" in response.get_json()["message"]


@pytest.mark.parametrize(
    ("url", "where", "field"),
    [
        (f"{MP}/outlets/C1010432000352%00", "path", "fi_code"),
        (f"{MP}/outlets/search?q=%00", "query", "q"),
        (f"{MP}/outlets/nearby?lat=32.04&lng=118.78&institution=%00", "query", "institution"),
    ],
)
def test_the_refusal_names_the_parameter(
    client: FlaskClient, url: str, where: str, field: str
) -> None:
    assert field in client.get(url).get_json()["errors"][where]


def test_nul_in_a_chat_message_is_not_a_server_error(client: FlaskClient) -> None:
    response = client.post("/api/bot/v1/chat", json={"user": "u\x00", "text": "工行"})
    assert response.status_code == 422, response.get_data()
    assert "user" in response.get_json()["errors"]["json"]
    response = client.post("/api/bot/v1/chat", json={"user": "u", "text": "新街口\x00工行"})
    assert response.status_code == 422, response.get_data()
    assert "text" in response.get_json()["errors"]["json"]
    nested = client.post(
        "/api/bot/v1/chat",
        json={"user": "u", "text": "工行", "location": {"lat": 32, "lng": 118, "coord": "x\x00"}},
    )
    assert nested.get_json()["errors"]["json"] == {
        "location": {"coord": [nested.get_json()["message"]]}
    }


def test_nul_in_an_error_report_path_is_not_a_server_error(client: FlaskClient) -> None:
    response = client.post(f"{MP}/outlets/%00/error-reports", json={"kind": "phone"})
    assert 400 <= response.status_code < 500, response.get_data()


@pytest.mark.parametrize(
    "query_string",
    ["q=\x00", "q=a&\x00=b", "q=%00%00", "q=%%00", "q\x00=x"],
)
def test_a_nul_sent_as_is_in_the_query_string_is_refused(
    client: FlaskClient, query_string: str
) -> None:
    """Not only "%00": a NUL byte the server passed through undecoded is found too."""
    response = client.get(f"{MP}/outlets/search", environ_overrides={"QUERY_STRING": query_string})
    assert response.status_code == 422, (query_string, response.get_data())
    assert "query" in response.get_json()["errors"]


def test_percent_signs_that_do_not_make_a_nul_are_searched(client: FlaskClient) -> None:
    assert client.get(f"{MP}/outlets/search", query_string={"q": "%00 100%"}).status_code == 200
