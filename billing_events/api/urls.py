from django.urls import path

from billing_events.api import pauses, reminders

urlpatterns = [
    path("reminder-schedule/", reminders.ReminderScheduleApi.as_view(), name="reminder-schedule"),
    path("reminders/preview/", reminders.RemindersPreviewApi.as_view(), name="reminders-preview"),
    path("reminders/pauses/", pauses.PauseListApi.as_view(), name="reminder-pauses"),
    path(
        "reminders/pauses/<int:pause_id>/",
        pauses.PauseDetailApi.as_view(),
        name="reminder-pause",
    ),
]
