from django import template

from connections.selectors_setup import tenant_setup_steps

register = template.Library()


@register.inclusion_tag("connections/setup_steps.html", takes_context=True)
def setup_checklist(context, tenant):
    """`{% setup_checklist tenant %}`: the "what's left to do" card, usable on any tenant page.

    Staff see only the steps they can do; the owners' steps are summed up in one line.
    """
    membership = context.get("current_membership")
    steps = tenant_setup_steps(tenant=tenant)
    is_owner = membership is not None and membership.is_owner
    shown = steps if is_owner else [step for step in steps if not step.owner_only]
    owners = [step for step in steps if step.owner_only and not is_owner]
    done = sum(step.done for step in shown)
    return {
        "setup_steps": shown,
        "setup_done": done,
        "setup_remaining": len(shown) - done,
        "owner_steps_remaining": sum(not step.done for step in owners),
        "current_membership": membership,
    }
