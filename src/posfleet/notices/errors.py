from django.utils.translation import gettext_lazy as _

from posfleet.core.errors import DomainError


class RateLimited(DomainError):
    status = 429
    code = "rate_limited"
    default_message = _("Too many checks from your address; please wait a minute and try again.")
