"""ASGI entry point: HTTP through Django, websockets through Channels.

Websockets are checked for their Origin before anything else, scheme, host and
port (``webapp.ws_origin``), so a page on another site, or on another port of
this host, cannot ride a signed-in user's cookie. HTTP bodies past the largest
upload are refused before Django spools them (``webapp.body_limit``).
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from webapp.auth import WebsocketAuthStack  # noqa: E402
from webapp.body_limit import BodyLimit  # noqa: E402
from webapp.routing import websocket_urlpatterns  # noqa: E402
from webapp.ws_origin import SameOriginWebsocketValidator  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": BodyLimit(django_asgi_app),
        "websocket": SameOriginWebsocketValidator(
            WebsocketAuthStack(URLRouter(websocket_urlpatterns))
        ),
    }
)
