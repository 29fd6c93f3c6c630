"""Images on a Wharf host: the store, layers, registries, archives.

Use the store through ``Runtime().images`` (``runtime.images.store.ImageStore``);
``registry.pull``/``registry.push`` talk to registries, ``archive`` reads and
writes ``docker save`` archives and OCI layouts, ``starter`` builds busybox.
"""
