"""Images on a Wharf host: the store, layers, registries, archives.

Use the store through ``Runtime().images`` (``service.ImageService``, an ``ImageStore``)::

    with Runtime() as rt:
        image = rt.images.pull("127.0.0.1:5000/app:1", progress=print)  # -> Image
        rt.images.get("busybox")            # name, name@sha256:…, full or short id
        rt.images.layer_paths(image)        # unpacked layer dirs, base first
        rt.images.layer_links(image)        # short symlinks root/l/<id> to them, base first
        rt.images.commit(parent, upper_dir, {"Cmd": ["sh"]}, created_by="RUN …")
        rt.images.tag("busybox", "mine:1"); rt.images.untag("mine:1")
        rt.images.remove("mine:1", force=False)   # docker rmi: Untagged/Deleted records
        rt.images.prune(all=False)                # {"ImagesDeleted": […], "SpaceReclaimed": n}
        rt.images.history("busybox"); rt.images.inspect("busybox")
        rt.images.push("mine:1", "127.0.0.1:5000/mine:1")  # -> manifest digest
        rt.images.save(["busybox"], fileobj); rt.images.load(path_or_fileobj)
        rt.images.import_rootfs(fileobj, "name:tag", config={"Cmd": ["sh"]})

Progress is a callback taking ``progress.Progress(id, status, current, total)``.
Errors are ``runtime.errors``: ImageNotFound (also for a registry's 404, as
``registry.RegistryNotFound``), Conflict, InvalidArgument (bad references,
manifests, archives, layer entries), RegistryError/AuthenticationError (with
the registry's own message), HostError (disk full).

Modules: ``service`` (``rt.images``: the store with pull, push, save and load,
above ``registry`` and ``archive``, which build on ``store``), ``store`` (blobs, layers, rows), ``layers`` (apply a layer tar, diff
an overlay upper dir), ``reference``, ``manifest``, ``registry`` (pull, push,
login; imports httpx), ``auth`` (credentials file, challenges), ``archive``
(save, load, import --change), ``progress``, ``starter`` (busybox:latest).
"""
