"""The OCI layer: runtime probing, config.json generation, the runtime adapter, the shim."""
