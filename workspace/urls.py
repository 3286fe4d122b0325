from django.urls import include, path

from workspace import views

app_urls = (
    [
        path("invoices/", views.invoice_list, name="invoice-list"),
        path("invoices.csv", views.invoice_csv, name="invoice-csv"),
        path("invoices/<str:invoice_id>/", views.invoice_detail, name="invoice-detail"),
        path("invoices/<str:invoice_id>/pause/", views.invoice_pause, name="invoice-pause"),
        path("invoices/<str:invoice_id>/resume/", views.invoice_resume, name="invoice-resume"),
        path(
            "invoices/<str:invoice_id>/send-next/",
            views.invoice_send_next,
            name="invoice-send-next",
        ),
        path("customers/<str:contact_id>/", views.customer_detail, name="customer-detail"),
        # The customer page replaced the contact page of the send log: old links still work.
        path("messaging/contacts/<str:contact_id>/", views.contact_moved, name="contact-moved"),
    ],
    "workspace",
)

urlpatterns = [path("", include(app_urls))]
