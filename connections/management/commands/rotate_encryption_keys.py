from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from connections.fields import EncryptedTextField


def encrypted_fields():
    for model in apps.get_models():
        names = [f.name for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
        if names:
            yield model, names


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored secret with the first key of FIELD_ENCRYPTION_KEYS. "
        "Run after putting a new key first; remove the old key only afterwards."
    )

    def handle(self, *args, **options):
        total = 0
        for model, names in encrypted_fields():
            count = 0
            with transaction.atomic():
                for row in model._default_manager.only("pk", *names).iterator(chunk_size=500):
                    # Reading decrypts with any key; update() encrypts with the first one.
                    model._default_manager.filter(pk=row.pk).update(
                        **{name: getattr(row, name) for name in names}
                    )
                    count += 1
            self.stdout.write(
                f"{model._meta.label}: {count} row(s) re-encrypted ({', '.join(names)})"
            )
            total += count
        self.stdout.write(self.style.SUCCESS(f"Done: {total} row(s) now use the first key."))
