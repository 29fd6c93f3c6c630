from django.urls import path

from webapp.inventory.consumers import InventoryConsumer
from webapp.jobs.consumers import JobOutputConsumer

websocket_urlpatterns = [
    path("ws/jobs/<int:job_id>/", JobOutputConsumer.as_asgi()),
    path("ws/inventory/", InventoryConsumer.as_asgi()),
]
