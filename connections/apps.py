from django.apps import AppConfig


class ConnectionsConfig(AppConfig):
    name = "connections"
    verbose_name = "Tenants and connections"

    def ready(self):
        # Imported for what they register: the system checks, the failed-login counter.
        from connections import checks, login_throttle  # noqa: F401
