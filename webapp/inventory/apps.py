from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "webapp.inventory"
    label = "inventory"

    def ready(self) -> None:
        from webapp.inventory.services import settle_job
        from webapp.jobs.signals import job_ended

        def settle(sender: object, job: object, **kwargs: object) -> None:
            from webapp.inventory.uploads import remove_for

            settle_job(job)
            remove_for(job.pk)  # what its request uploaded served this job only

        job_ended.connect(settle, dispatch_uid="inventory.settle_job", weak=False)
