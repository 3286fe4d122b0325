from django.urls import path

from dashboard import views

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("welcome/", views.welcome, name="welcome"),
    path("welcome/xero/", views.welcome_xero, name="welcome-xero"),
    path("welcome/twilio/", views.welcome_twilio, name="welcome-twilio"),
    path("welcome/email/", views.welcome_sendgrid, name="welcome-sendgrid"),
    path("welcome/review/", views.welcome_review, name="welcome-review"),
    path("welcome/test/", views.welcome_test, name="welcome-test"),
]
