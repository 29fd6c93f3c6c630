from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from webapp.accounts import team_pages
from webapp.accounts import views as account_views
from webapp.accounts.api.views import TeamViewSet
from webapp.accounts.views import SignInView
from webapp.audit import views as audit_views
from webapp.audit.api.views import AuditEntryViewSet
from webapp.fleet import views as host_views
from webapp.fleet.api.views import HostViewSet
from webapp.inventory import image_pages, volume_pages
from webapp.inventory import views as container_views
from webapp.inventory.api.views import (
    ContainerViewSet,
    ImageViewSet,
    NetworkViewSet,
    VolumeViewSet,
)
from webapp.jobs import views as job_views
from webapp.jobs.api.views import JobViewSet
from webapp.registries import views as registry_views
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
router.register("teams", TeamViewSet, basename="team")

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
    path("images/", image_pages.image_list, name="images"),
    path("images/table/", image_pages.image_table, name="images-table"),
    path("images/pull/", image_pages.image_pull, name="images-pull"),
    path("images/build/", image_pages.image_build, name="images-build"),
    path("images/<int:image_id>/", image_pages.image_detail, name="image-page"),
    path("images/<int:image_id>/push/", image_pages.image_push, name="image-page-push"),
    path("<str:kind>/prune/", image_pages.prune, name="objects-prune"),
    path("images/<int:image_id>/tag/", image_pages.image_tag, name="image-page-tag"),
    path("images/<int:image_id>/remove/", image_pages.image_remove, name="image-page-remove"),
    path("images/<int:image_id>/history/", image_pages.image_history, name="image-page-history"),
    path(
        "images/<int:image_id>/history/<int:job_id>/",
        image_pages.image_history_result,
        name="image-page-history-result",
    ),
    path("volumes/", volume_pages.volume_list, name="volumes"),
    path("volumes/table/", volume_pages.volume_table, name="volumes-table"),
    path("volumes/new/", volume_pages.volume_create, name="volumes-new"),
    path("volumes/<int:volume_id>/", volume_pages.volume_detail, name="volume-page"),
    path("volumes/<int:volume_id>/remove/", volume_pages.volume_remove, name="volume-page-remove"),
    path("volumes/<int:volume_id>/files/", volume_pages.volume_files, name="volume-page-files"),
    path(
        "volumes/<int:volume_id>/files/<int:job_id>/",
        volume_pages.volume_files_result,
        name="volume-page-files-result",
    ),
    path("networks/", volume_pages.network_list, name="networks"),
    path("networks/table/", volume_pages.network_table, name="networks-table"),
    path("networks/new/", volume_pages.network_create, name="networks-new"),
    path("networks/<int:network_id>/", volume_pages.network_detail, name="network-page"),
    path(
        "networks/<int:network_id>/remove/", volume_pages.network_remove, name="network-page-remove"
    ),
    path("hosts/", host_views.host_list, name="hosts"),
    path("hosts/<str:host_name>/", host_views.host_detail, name="host-page"),
    path(
        "hosts/<str:host_name>/<str:hold>/",
        host_views.host_hold,
        name="host-hold",
    ),
    path("jobs/", job_views.job_list, name="jobs"),
    path("registries/", registry_views.registry_list, name="registries"),
    path("registries/new/", registry_views.registry_add, name="registries-new"),
    path("registries/<int:registry_id>/", registry_views.registry_detail, name="registry-page"),
    path(
        "registries/<int:registry_id>/remove/",
        registry_views.registry_remove,
        name="registry-page-remove",
    ),
    path("profile/", account_views.profile, name="profile"),
    path("profile/tokens/", account_views.token_create, name="token-create"),
    path("profile/tokens/<int:token_id>/revoke/", account_views.token_revoke, name="token-revoke"),
    path("teams/", team_pages.team_list, name="teams"),
    path("teams/<slug:team>/members/", team_pages.team_members, name="team-page-members"),
    path("teams/<slug:team>/members/add/", team_pages.member_add, name="team-page-member-add"),
    path(
        "teams/<slug:team>/members/<str:username>/role/",
        team_pages.member_role,
        name="team-page-member-role",
    ),
    path(
        "teams/<slug:team>/members/<str:username>/remove/",
        team_pages.member_remove,
        name="team-page-member-remove",
    ),
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
