"""django-q2 entry points: each loads nothing itself and calls one service."""

from connections import services


def grants_keep_alive() -> int:
    return services.grants_keep_alive()


def xero_calls_prune() -> int:
    return services.xero_calls_prune()


def grants_connections_check() -> int:
    return services.grants_connections_check()
