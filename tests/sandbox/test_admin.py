from django.apps import apps
from django.contrib import admin
from django.contrib.auth import get_user_model


def test_every_sandbox_model_has_an_admin_page_that_opens(client, organisations):
    operator = get_user_model().objects.create_superuser("op", "op@dunwell.test", "pw")
    client.force_login(operator)
    for model in apps.get_app_config("sandbox").get_models():
        assert admin.site.is_registered(model), model
        url = f"/admin/sandbox/{model._meta.model_name}/"
        assert client.get(url).status_code == 200, url
