"""One small error family for everything a backend can do wrong.

Features catch `BackendError` and show `user_message`; the log gets the detail.
"""

from __future__ import annotations


class BackendError(Exception):
    """A model call failed. `user_message` says what the user can do about it."""

    retryable: bool = False
    kind: str = "backend"

    def __init__(self, user_message: str, *, detail: str = "") -> None:
        super().__init__(user_message)
        self.user_message = user_message
        self.detail = detail


class BackendUnavailable(BackendError):
    """Nothing answers at the configured address (connection refused, DNS, engine not started)."""

    retryable = True
    kind = "unavailable"


class BackendTimeout(BackendError):
    retryable = True
    kind = "timeout"


class BackendAuthError(BackendError):
    kind = "auth"


class BackendRateLimited(BackendError):
    retryable = True
    kind = "rate_limited"


class BackendBadRequest(BackendError):
    """The backend rejected the request: unknown model, prompt too long, bad parameter."""

    kind = "bad_request"


class BackendServerError(BackendError):
    retryable = True
    kind = "server_error"


class BackendStarting(BackendError):
    """The bundled engine is still starting; the request is answered empty, not hung."""

    retryable = True
    kind = "starting"


class BudgetExceeded(BackendError):
    """The request would break a configured budget; no tokens were spent."""

    kind = "budget"


class PrivacyRefusal(BackendError):
    """`privacy.rules` keeps this file (or context from it) from this backend; nothing was sent."""

    kind = "privacy"

    def __init__(self, user_message: str, *, quiet: bool = False) -> None:
        super().__init__(user_message)
        self.quiet = quiet  # a blocked file is the rule working: logged, not popped up
