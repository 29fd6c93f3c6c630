"""Live streams of a container between a browser and its host: logs, stats and exec.

The site never reaches into a host, and a host holds no site secret, so a
stream is made in three steps:

1. A browser opens ``/ws/containers/ID/{logs,stats,exec}/``. Its consumer
   checks the person and the container's team, then ``requests.request_stream``
   keeps a one-time stream id (in the shared cache, naming the host and the
   consumer's channel) and pushes a request signed with the site's job key to
   the host's own list on the broker.
2. The host's worker (``worker/streams.py``) pops the request, checks the
   signature, that it names this host and is still fresh, and dials *out* to
   ``/ws/host/streams/SID/`` with its host credential. That consumer claims the
   stream id once, for that host only; an unknown, expired, used or other
   host's id is refused (4404).
3. The two consumers then talk through the channel layer, each to the other's
   channel: the host's output goes to the browser, the browser's input (exec)
   to the host; either end closing ends the other.
"""
