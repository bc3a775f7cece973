"""Logs are one JSON object per line, injection-safe, redacted and carry the request id (SEC-44, SEC-39)."""

import io
import json
import logging

import pytest
from django.urls import reverse

from gjj_portal.logging import MAX_FIELD, JsonFormatter
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def log_output():
    """The configured JSON console handler, writing into a buffer for the test."""
    handler = next(h for h in logging.getLogger().handlers if isinstance(h.formatter, JsonFormatter))
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    yield buffer
    handler.setStream(previous)


def test_forged_line_in_a_login_name_stays_inside_one_json_record(client, employer, log_output):
    response = client.post(reverse("employers:login"), {
        "account_no": employer.account_no, "login_name": "x\r\nINFO forged", "password": PASSWORD, "code": "123456"})
    assert response.status_code == 200
    lines = log_output.getvalue().splitlines()
    assert len(lines) == 1
    assert "\\r\\n" in lines[0]
    record = json.loads(lines[0])
    assert "x\r\nINFO forged" in record["message"]
    assert record["level"] == "WARNING" and record["request_id"] == response["X-Request-ID"]


def test_password_and_code_never_reach_the_log(client, agent, log_output):
    client.post(reverse("employers:login"), {
        "account_no": agent.employer.account_no, "login_name": agent.login_name, "password": "Wrong@Secret123", "code": "654321"})
    output = log_output.getvalue()
    assert output and "Wrong@Secret123" not in output and "654321" not in output


def test_id_numbers_phones_and_secrets_are_redacted(log_output):
    logging.getLogger("gjj_portal.test").warning("身份证 110105194912310021 手机 13904770001 password=hunter2hunter2")
    output = log_output.getvalue()
    assert "110105194912310021" not in output and "110105********0021" in output
    assert "13904770001" not in output and "139****0001" in output
    assert "hunter2hunter2" not in output


def test_long_user_strings_are_cut(log_output):
    logging.getLogger("gjj_portal.test").warning("x" * 10_000)
    record = json.loads(log_output.getvalue())
    assert len(record["message"]) <= MAX_FIELD * 4 + 1


def test_each_user_string_put_into_a_message_keeps_256_characters(log_output):
    logging.getLogger("gjj_portal.test").warning("login %s from %s", "y" * 1000, "203.0.113.9")
    message = json.loads(log_output.getvalue())["message"]
    assert message == f"login {'y' * MAX_FIELD}… from 203.0.113.9"


def test_every_control_character_is_escaped(log_output):
    logging.getLogger("gjj_portal.test").warning("a\x00b\x1bc\u2028d\x85e")
    line = log_output.getvalue()
    assert line.count("\n") == 1 and line.endswith("\n")
    assert not any(ch in line[:-1] for ch in "\x00\x1b\u2028\x85\r")
