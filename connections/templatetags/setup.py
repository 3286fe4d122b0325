from django import template

from connections.selectors_setup import tenant_setup_steps

register = template.Library()


@register.inclusion_tag("connections/setup_steps.html", takes_context=True)
def setup_checklist(context, tenant):
    """`{% setup_checklist tenant %}`: the "what's left to do" card, usable on any tenant page."""
    steps = tenant_setup_steps(tenant=tenant)
    done = sum(step.done for step in steps)
    return {
        "setup_steps": steps,
        "setup_done": done,
        "setup_remaining": len(steps) - done,
        "current_membership": context.get("current_membership"),
    }
