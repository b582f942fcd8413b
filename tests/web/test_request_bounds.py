"""Requests anyone can send are bounded before the portal spends work on them (issue #15, item 6:
no anonymous request costs more than 50 ms of CPU; scripts/bench_anonymous.py measures it).
Parsing and checking a 10,000-parameter query string cost ~40 ms; it is now refused unread."""
from __future__ import annotations


def test_a_query_of_ten_thousand_parameters_is_refused(client):
    response = client.get("/privacy?" + "&".join(f"p{i}={i}" for i in range(10_000)))
    assert response.status_code == 400
    assert "Nie udało się zrozumieć tego żądania." in response.get_data(as_text=True)


def test_a_short_query_of_hundreds_of_parameters_is_refused(client):
    response = client.get("/privacy?" + "&".join(["a"] * 500))
    assert response.status_code == 400
    assert client.get("/auth/callback?" + "&".join(["state=x"] * 150)).status_code == 400


def test_a_query_longer_than_a_request_line_gunicorn_accepts_is_refused(client):
    response = client.get("/privacy?next=" + "a" * 5_000)
    assert response.status_code == 400
    assert "Nie udało się zrozumieć tego żądania." in response.get_data(as_text=True)


def test_a_page_with_a_few_dozen_parameters_still_answers(client):
    assert client.get("/privacy?" + "&".join(f"p{i}=x" for i in range(60))).status_code == 200


def test_a_body_over_two_megabytes_is_refused_unread(client):
    response = client.post("/auth/backchannel-logout", data=b"a" * 3_000_000,
                           content_type="application/x-www-form-urlencoded; charset=latin-1")
    assert response.status_code == 413
