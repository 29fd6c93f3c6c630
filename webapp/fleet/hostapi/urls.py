from django.urls import include, path

from webapp.fleet.hostapi import views

urlpatterns = [
    path("enroll/", views.Enroll.as_view(), name="host-enroll"),
    path("heartbeat/", views.Heartbeat.as_view(), name="host-heartbeat"),
    path("jobs/<int:job_id>/claim/", views.Claim.as_view(), name="host-claim"),
    path("jobs/<int:job_id>/upload/", views.Upload.as_view(), name="host-upload"),
    path("jobs/<int:job_id>/lines/", views.Lines.as_view(), name="host-lines"),
    path("jobs/<int:job_id>/finish/", views.Finish.as_view(), name="host-finish"),
    path("rejected/", views.Rejected.as_view(), name="host-rejected"),
    path("inventory/", include("webapp.inventory.hostapi")),
]
