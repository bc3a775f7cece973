"""Two reviewers at once on PostgreSQL (SEC-22): 【通过】 and 【退回】 race on one application; exactly one wins,
the other gets the Chinese "已被他人处理" refusal, and one decision is audited."""

# ruff: noqa: F811 - the shared fixtures are imported from flow_fixtures and requested by name

import threading

import pytest
from django.db import connection

from approvals.models import Application, ApplicationStep
from approvals.services.flow import application_pass, application_return
from gjj_portal.errors import BusinessError
from gjj_portal.models import AuditEvent
from tests import factories
from tests.approvals.flow_fixtures import business, submit  # noqa: F401


# SQLite's in-memory test database shares one cache between connections, where a second writer gets
# "table is locked" instead of waiting; the sequential stale-version test in test_flow.py covers SQLite.
@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers are proven on PostgreSQL only")
@pytest.mark.django_db(transaction=True)
def test_concurrent_pass_and_return_end_in_one_state(business):
    employer = factories.make_employer()
    agent = factories.make_agent(employer, login_name="jbr01")
    reviewers = [factories.make_reviewer(login_name=f"shenhe0{n}") for n in (1, 2)]
    application = submit(agent, payload={"contact_name": "并发", "sleep": 0.3})
    version = application.version
    barrier, results = threading.Barrier(2), []

    def worker(action, reviewer):
        try:
            barrier.wait()
            # Both act on the page they loaded (the same version); the services re-read inside their transaction.
            if action == "pass":
                application_pass(application=application, reviewer=reviewer, version=version)
            else:
                application_return(application=application, reviewer=reviewer, version=version, opinion="退回")
            results.append("ok")
        except BusinessError as exc:
            results.append(exc.code)
        except Exception as exc:  # recorded so the assertion shows what escaped
            results.append(f"{type(exc).__name__}: {exc}")
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=args) for args in (("pass", reviewers[0]), ("return", reviewers[1]))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(results) == ["conflict", "ok"], results
    application.refresh_from_db()
    assert application.status in (Application.Status.APPROVED, Application.Status.RETURNED)
    decisions = AuditEvent.objects.filter(object_id=str(application.pk), event__in=["approvals.application.approved", "approvals.application.returned"])
    assert decisions.count() == 1
    assert ApplicationStep.objects.filter(application=application, action__in=["pass", "return"]).count() == 1
