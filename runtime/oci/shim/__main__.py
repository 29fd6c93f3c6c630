"""``python -m runtime.oci.shim``: compile the shim now (set-up does this) and print its path."""

from runtime.oci.shim import shim_binary

print(shim_binary())
