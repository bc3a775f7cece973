from django.urls import path

from . import agent_views, department_views, views

app_name = "employers"

urlpatterns = [
    path("login/", views.agent_login, name="login"),
    path("login/sms/", views.sms_send, name="sms-send"),
    path("login/enrol/", views.enrol, name="enrol"),
    path("logout/", views.logout_view, name="logout"),
    path("password/", views.password_change, name="password-change"),
    path("password/reset/<str:uidb64>/<str:token>/", views.password_reset, name="password-reset"),
    path("center/login/", views.center_login, name="center-login"),
    path("center/", views.center_home, name="center-home"),
    path("employer/query/changes/", views.change_query, name="change-query"),
    path("employer/query/changes/print/", views.change_print, name="change-query-print"),
    path("employer/deferrals/", views.deferral_page, name="deferrals"),
    # 经办人管理 (issue 17): the 主经办人's pages, and the center's 经办人审核
    path("employer/agents/", agent_views.agent_list, name="agents"),
    path("employer/agents/new/", agent_views.agent_add, name="agent-add"),
    path("employer/agents/two-person/", agent_views.two_person, name="agent-two-person"),
    path("employer/agents/<int:pk>/", agent_views.agent_edit, name="agent-edit"),
    path("employer/agents/<int:pk>/disable/", agent_views.agent_disable, name="agent-disable"),
    path("employer/agents/<int:pk>/enable/", agent_views.agent_enable, name="agent-enable"),
    # 单位部门管理 (issue 17)
    path("employer/departments/", department_views.department_list, name="departments"),
    path("employer/departments/new/", department_views.department_add, name="department-add"),
    path("employer/departments/<int:pk>/", department_views.department_edit, name="department-edit"),
    path("employer/departments/<int:pk>/delete/", department_views.department_delete, name="department-delete"),
    path("center/agents/", agent_views.center_agent_list, name="center-agents"),
    path("center/agents/<int:pk>/approve/", agent_views.center_agent_approve, name="center-agent-approve"),
    path("center/agents/<int:pk>/refuse/", agent_views.center_agent_refuse, name="center-agent-refuse"),
]
