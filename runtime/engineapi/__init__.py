"""The Docker Engine API (1.41) on a unix socket, served by each root's host agent.

Existing clients (the ``docker`` CLI, docker-py, docker-compose) work against
a Wharf root with only ``DOCKER_HOST=unix://$WHARF_RUN/docker.sock``. Routes
call the same ``Runtime`` methods as the ``wharf`` CLI, so both see one state.
The socket gives root's powers over the host to whoever can open it: see
docs/security.md.
"""
