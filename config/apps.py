from django.apps import AppConfig
from django.db.models.signals import post_migrate


class DunwellConfig(AppConfig):
    """The top layer as an app, so the one list of recurring jobs (config/schedules.py) is
    synced after every migrate from here, above every app it names."""

    name = "config"
    verbose_name = "Dunwell"

    def ready(self):
        from config.schedules import sync_schedules

        # Sent once per app with models; django_q's is the one that owns the Schedule table
        # (this app has no models, so Django sends it no post_migrate of its own).
        post_migrate.connect(sync_schedules, sender=self.apps.get_app_config("django_q"))
