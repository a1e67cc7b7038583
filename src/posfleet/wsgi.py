"""The WSGI application `posfleet.server` serves (scripts/start, deployments, `posfleet bench`):
Django, behind the eligibility fast path (api/fastpath.py).

`POSFLEET_FASTPATH=0` serves everything through Django (to compare, or to rule the fast path out).
Static files are served by WhiteNoise's middleware inside Django (from `STATIC_ROOT`, filled by
`posfleet collectstatic`), so no reverse proxy is needed for them.
"""

import os
from collections.abc import Callable, Iterable
from typing import Any

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "posfleet.settings")
django_application = get_wsgi_application()
application: Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]] = django_application

if os.environ.get("POSFLEET_FASTPATH", "1").strip().lower() not in {"0", "false", "no", "off"}:
    from posfleet.api.fastpath import EligibilityFastPath

    application = EligibilityFastPath(django_application)

from posfleet.core.startup import freeze_startup_objects  # noqa: E402 (after the application is loaded)

freeze_startup_objects()
