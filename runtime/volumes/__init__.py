"""Volumes: named and anonymous local volumes, bind mounts under a policy, tmpfs mounts."""

from runtime.volumes.manager import Volume, VolumeManager

__all__ = ["Volume", "VolumeManager"]
