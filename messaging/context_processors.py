from functools import partial

from messaging.selectors import inbox_waiting_count


def inbox_waiting(request):
    """The navigation's count of texts waiting for a person (connections/navigation.py), as a
    callable: the query runs only on pages that draw the navigation."""
    tenant = getattr(request, "tenant", None)
    if tenant is None:
        return {}
    return {"inbox_waiting": partial(inbox_waiting_count, tenant=tenant)}
