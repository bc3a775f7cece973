"""Fixtures for the security tests: an administrator, and a client stopped at the enrolment step."""

import pytest
from django.test import Client

from employers.models import User
from tests import factories


@pytest.fixture
def admin_user(db):
    factories.make_center()
    return factories.make_user(role=User.Role.ADMIN, login_name="gly01", is_staff=True, is_superuser=True)


@pytest.fixture
def admin_client(admin_user):
    client = Client()
    factories.login_as(client, admin_user)
    return client
