"""Typed domain errors that carry their HTTP status.

Services raise these; the API, the console and the CLI translate them, so bad input is never a 500.
Messages are lazily translated so each user reads them in their own language.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    status = 400
    code = "bad_request"
    default_message: Any = _("The request cannot be carried out.")

    def __init__(self, message: Any = None, *, details: Any = None, code: str | None = None) -> None:
        self.message = message if message is not None else self.default_message
        self.details = details if details is not None else {}
        if code:
            self.code = code
        super().__init__(str(self.message))


class ValidationFailed(DomainError):
    status = 422
    code = "validation_error"
    default_message = _("Some fields are not valid.")


class NotFound(DomainError):
    status = 404
    code = "not_found"
    default_message = _("No such object.")


class PermissionDenied(DomainError):
    status = 403
    code = "permission_denied"
    default_message = _("You do not have permission to do this.")


class StepUpRequired(DomainError):
    status = 403
    code = "step_up_required"
    default_message = _("Please verify your identity again (password or one-time code) to do this.")


class Conflict(DomainError):
    status = 409
    code = "conflict"
    default_message = _("The request conflicts with the current state.")


class StaleVersion(Conflict):
    code = "stale_version"
    default_message = _("Someone else changed this object first; reload it and try again.")


class InvalidTransition(Conflict):
    code = "invalid_transition"
    default_message = _("This action is not allowed in the current state.")


class Unauthenticated(DomainError):
    status = 401
    code = "unauthenticated"
    default_message = _("Authentication is required.")
