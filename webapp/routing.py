from django.urls import path

from webapp.inventory.consumers import InventoryConsumer
from webapp.jobs.consumers import JobOutputConsumer
from webapp.streams.consumers import (
    ExecConsumer,
    HostStreamConsumer,
    LogsConsumer,
    StatsConsumer,
)

websocket_urlpatterns = [
    path("ws/jobs/<int:job_id>/", JobOutputConsumer.as_asgi()),
    path("ws/inventory/", InventoryConsumer.as_asgi()),
    path("ws/containers/<int:container_id>/logs/", LogsConsumer.as_asgi()),
    path("ws/containers/<int:container_id>/stats/", StatsConsumer.as_asgi()),
    path("ws/containers/<int:container_id>/exec/", ExecConsumer.as_asgi()),
    path("ws/host/streams/<str:stream_id>/", HostStreamConsumer.as_asgi()),
]
