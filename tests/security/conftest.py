"""Fixtures for the security tests: an administrator, and a client stopped at the enrolment step."""

import pytest
from django.test import Client

from employers.models import User
from tests import factories


@pytest.fixture
def center_admin(db):
    factories.make_center()
    return factories.make_user(role=User.Role.ADMIN, login_name="gly01", is_staff=True, is_superuser=True)


@pytest.fixture
def center_admin_client(center_admin):
    client = Client()
    factories.login_as(client, center_admin)
    return client
