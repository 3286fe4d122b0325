from django.urls import path

from billing_events.api import reminders

urlpatterns = [
    path("reminder-schedule/", reminders.ReminderScheduleApi.as_view(), name="reminder-schedule"),
    path("reminders/preview/", reminders.RemindersPreviewApi.as_view(), name="reminders-preview"),
]
