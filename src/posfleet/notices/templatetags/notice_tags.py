"""`{% notice_templates %}`: the category templates and each hold kind's default category, as JSON
for the console's prefill script (in the language of the page)."""

from __future__ import annotations

from django import template
from django.utils.html import json_script
from django.utils.safestring import SafeString

from posfleet.notices.choices import DEFAULT_CATEGORY, LIFT_TEMPLATE, ReasonCategory, template_for

register = template.Library()


@register.simple_tag
def notice_templates() -> SafeString:
    data = {
        "templates": {c: template_for(c) for c in ReasonCategory.values},
        "by_kind": {k: str(v) for k, v in DEFAULT_CATEGORY.items()},
        "lift": str(LIFT_TEMPLATE),
    }
    return json_script(data, "notice-templates")
