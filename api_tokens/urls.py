from django.urls import path

from api_tokens import views

urlpatterns = [
    path("api-tokens/", views.api_tokens, name="api-tokens"),
    path("api-tokens/<int:api_token_id>/revoke/", views.api_token_revoke, name="api-token-revoke"),
]
