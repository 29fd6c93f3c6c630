"""The broker seen from the site: one Redis user per host, and sending to a host's queue.

Redis asks every client who it is. The site's user may do everything; each
host's user (``host.<name>``) may touch only keys under its own prefix
``wharf:host.<name>:`` — its queue and kombu's bookkeeping of it — with no
pub/sub channel, no scripting and none of Redis's admin or dangerous
commands, so it can neither read nor feed another host's queue, nor reach the
site's channel layer, nor send Celery remote-control broadcasts. The site
sends each host's messages through a connection with that host's prefix.
"""

from __future__ import annotations

import json
import secrets
from functools import lru_cache
from urllib.parse import quote, urlsplit, urlunsplit

import redis
from django.conf import settings

from webapp.fleet.models import queue_for

RUN_JOB_TASK = "wharf.run_job"
# What kombu's Redis transport does on a worker's behalf, and nothing more.
HOST_COMMANDS = (
    "+ping +select +hello +auth +client|setname +client|id"
    " +brpop +lpush +rpush +lpop +rpop +llen +lrange +lrem +ltrim"
    " +del +exists +expire +pexpire +ttl +pttl +type +get +set +setnx +getdel"
    " +hset +hget +hdel +hgetall +hexists +hlen +hmget"
    " +zadd +zrem +zrange +zrangebyscore +zrevrangebyscore +zcard +zscore"
    " +sadd +srem +smembers +sismember +scard"
    " +multi +exec +discard +watch +unwatch"
    # kombu's binding scripts; Redis 7 checks each key a script touches against these rules
    " +eval +evalsha +script|load +script|exists"
)


def key_prefix(host_name: str) -> str:
    return f"wharf:{queue_for(host_name)}:"


def user_name(host_name: str) -> str:
    return queue_for(host_name)


@lru_cache(maxsize=1)
def _admin() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL)


def grant_host(host_name: str) -> str:
    """Create (or renew) the host's Redis user with a fresh password; return the password."""
    password = secrets.token_urlsafe(32)
    prefix = key_prefix(host_name)
    rules = ["reset", "on", f">{password}", f"~{prefix}*", "resetchannels", *HOST_COMMANDS.split()]
    _admin().execute_command("ACL", "SETUSER", user_name(host_name), *rules)
    _save_acl()
    return password


def revoke_host(host_name: str) -> None:
    """Delete the host's Redis user and drop its open connections."""
    client = _admin()
    client.execute_command("ACL", "DELUSER", user_name(host_name))
    client.execute_command("CLIENT", "KILL", "USER", user_name(host_name))
    _save_acl()


def _save_acl() -> None:
    try:
        _admin().execute_command("ACL", "SAVE")
    except redis.ResponseError as exc:
        if "aclfile" not in str(exc).lower():
            raise


def host_broker_url(host_name: str, password: str) -> str:
    """The URL a host's worker dials: the broker hosts reach, as the host's own user."""
    base = urlsplit(settings.WHARF_HOST_BROKER_URL or settings.REDIS_URL)
    netloc = base.hostname or "127.0.0.1"
    if ":" in netloc:
        netloc = f"[{netloc}]"
    if base.port:
        netloc = f"{netloc}:{base.port}"
    userinfo = f"{quote(user_name(host_name), safe='')}:{quote(password, safe='')}"
    return urlunsplit((base.scheme, f"{userinfo}@{netloc}", base.path or "/0", "", ""))


def send_job(host_name: str, envelope: dict, message_id: str, time_limit: int) -> None:
    """Put one signed job message on the host's queue (raises if the broker is away).

    The message carries its limits: soft ``time_limit``, hard
    ``WHARF_JOB_HARD_GRACE`` seconds later.
    """
    app = _sender()
    with app.connection_for_write(
        transport_options={"global_keyprefix": key_prefix(host_name)}
    ) as conn:
        app.send_task(
            RUN_JOB_TASK,
            args=[envelope],
            task_id=message_id,
            queue=queue_for(host_name),
            connection=conn,
            retry=False,
            soft_time_limit=time_limit,
            time_limit=time_limit + settings.WHARF_JOB_HARD_GRACE,
        )


#: how long an unserved stream request may wait in a host's list (its browser gave up sooner)
STREAM_LIST_TTL = 120


def stream_list(host_name: str) -> str:
    """The key of the host's list of stream requests, under its own prefix (its user may
    pop from it), apart from its Celery queue: a stream is served by a thread of the
    worker's main process, never held up behind the jobs in the pool."""
    return f"{key_prefix(host_name)}streams"


def send_stream(host_name: str, envelope: dict) -> None:
    """Push one signed stream request to the host (raises if the broker is away)."""
    key = stream_list(host_name)
    with _admin().pipeline() as pipe:
        pipe.lpush(key, json.dumps(envelope))
        pipe.expire(key, STREAM_LIST_TTL)
        pipe.execute()


@lru_cache(maxsize=1)
def _sender():  # noqa: ANN202 - a Celery app, imported lazily
    from celery import Celery

    app = Celery("wharf-site")
    app.conf.update(
        broker_url=settings.REDIS_URL,
        task_serializer="json",
        accept_content=["json"],
        task_create_missing_queues=True,
        broker_connection_retry=False,
        broker_connection_max_retries=0,
        broker_connection_timeout=3,
    )
    return app
