from django.urls import path

from billing_events.api import preview, reminders

urlpatterns = [
    path("templates/preview/", preview.TemplatePreviewApi.as_view(), name="template-preview"),
    path("reminder-schedule/", reminders.ReminderScheduleApi.as_view(), name="reminder-schedule"),
    path("reminders/preview/", reminders.RemindersPreviewApi.as_view(), name="reminders-preview"),
]
