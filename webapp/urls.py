from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from webapp.accounts.views import SignInView
from webapp.audit import views as audit_views
from webapp.audit.api.views import AuditEntryViewSet
from webapp.fleet.api.views import HostViewSet
from webapp.inventory import views as container_views
from webapp.inventory.api.views import (
    ContainerViewSet,
    ImageViewSet,
    NetworkViewSet,
    VolumeViewSet,
)
from webapp.jobs import views as job_views
from webapp.jobs.api.views import JobViewSet
from webapp.registries.api.views import RegistryViewSet

handler404 = "webapp.api.errors.not_found"

router = DefaultRouter()
router.register("hosts", HostViewSet, basename="host")
router.register("jobs", JobViewSet, basename="job")
router.register("containers", ContainerViewSet, basename="container")
router.register("images", ImageViewSet, basename="image")
router.register("volumes", VolumeViewSet, basename="volume")
router.register("networks", NetworkViewSet, basename="network")
router.register("registries", RegistryViewSet, basename="registry")
router.register("audit", AuditEntryViewSet, basename="audit")

urlpatterns = [
    path("", job_views.dashboard, name="dashboard"),
    path("hosts/table/", job_views.hosts_table, name="hosts-table"),
    path("jobs/table/", job_views.jobs_table, name="jobs-table"),
    path("jobs/<int:job_id>/", job_views.job_detail, name="job-page"),
    path("jobs/<int:job_id>/cancel/", job_views.job_cancel, name="job-cancel"),
    path("jobs/<int:job_id>/rerun/", job_views.job_rerun, name="job-rerun"),
    path("hosts/<str:host_name>/check/", job_views.start_host_check, name="host-check"),
    path("containers/", container_views.container_list, name="containers"),
    path("containers/table/", container_views.container_table, name="containers-table"),
    path("containers/bulk/", container_views.container_bulk, name="containers-bulk"),
    path("containers/new/", container_views.container_new, name="container-run"),
    path("containers/<int:container_id>/", container_views.container_detail, name="container-page"),
    path(
        "containers/<int:container_id>/<str:action>/",
        container_views.container_action,
        name="container-page-action",
    ),
    path("audit/", audit_views.audit_log, name="audit"),
    path("login/", SignInView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(router.urls)),
    path("api/host/v1/", include("webapp.fleet.hostapi.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # the split view serves its start-up script from ?script, so the page needs no inline script
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="schema", template_name="api/swagger_ui.html"),
        name="api-docs",
    ),
]
