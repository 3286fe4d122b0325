from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ConnectionsConfig(AppConfig):
    name = "connections"
    verbose_name = "Tenants and connections"

    def ready(self):
        from config.schedules import sync_schedules

        # Imported for what they register: the system checks, the failed-login counter.
        from connections import checks, login_throttle  # noqa: F401

        post_migrate.connect(sync_schedules, sender=self)
