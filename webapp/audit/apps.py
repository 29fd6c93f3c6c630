from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "webapp.audit"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from webapp.audit import signals  # noqa: F401 - connects the receivers
