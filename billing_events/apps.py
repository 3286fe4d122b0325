from django.apps import AppConfig


class BillingEventsConfig(AppConfig):
    name = "billing_events"
    verbose_name = "Xero events"
