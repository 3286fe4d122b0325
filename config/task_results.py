"""The results django-q2 keeps of tasks that succeeded: the newest KEPT, pruned every ten
minutes.

django-q2 can prune them itself (`Q_CLUSTER["save_limit"]`), but it does so while saving every
task's result, by loading all the kept results with SELECT … FOR UPDATE to delete one
(django_q/monitor.py `save_task`): at 1,000 kept, a thousand rows read and unpickled per task,
and every host's monitor queued on the same row locks. Here `save_limit` is 0 (keep all) and
this job deletes the older ones in one statement. Failures are kept until an operator deletes
them.
"""

from django_q.models import Success

KEPT = 1000


def task_results_prune(*, kept: int = KEPT) -> int:
    """Delete the successes older than the newest `kept`; how many went."""
    oldest_kept = Success.objects.order_by("-stopped").values_list("stopped", flat=True)[
        kept - 1 : kept
    ]
    deleted, _ = Success.objects.filter(stopped__lt=oldest_kept).delete()
    return deleted
