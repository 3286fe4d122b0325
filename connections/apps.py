from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ConnectionsConfig(AppConfig):
    name = "connections"
    verbose_name = "Tenants and connections"

    def ready(self):
        from config.schedules import sync_schedules
        from connections import checks  # noqa: F401  (registers the system checks)

        post_migrate.connect(sync_schedules, sender=self)
