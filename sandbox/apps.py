from django.apps import AppConfig


class SandboxConfig(AppConfig):
    name = "sandbox"
    verbose_name = "Sandbox (offline Xero, Twilio and SendGrid)"

    def ready(self):
        from sandbox import checks  # noqa: F401  (registers the system checks)
