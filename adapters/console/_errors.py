"""Why a sign-in or a rights check did not go through."""


class SignInRefused(Exception):
    """The person may not sign in; ``str()`` is safe to show them."""


class PlatformUnavailable(Exception):
    """Discord or Slack did not answer usably (network, 5xx, 429, a refused bot token)."""
