"""ConsoleConfig: the plain values the console is built with (the wiring reads Settings)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class ConsoleConfig:
    """How the console behaves.

    Attributes:
        secret: signs the session cookies; keep it across restarts or everyone is signed out.
        base_url: how people reach the console (the login link is printed with it); empty:
            the address it listens on.
        secure_cookies: send cookies only over HTTPS (on behind TLS).
        read_only: show everything, decide nothing.
        keepalive_s: seconds between the event stream's keep-alive comments.
        login_ttl_s: how long a login link stays valid.
        login_attempts: login attempts one client may make per ``login_window_s``.
        session_max_age_s: how long a session lasts.
    """

    secret: str
    base_url: str = ""
    secure_cookies: bool = False
    read_only: bool = False
    keepalive_s: float = 20.0
    login_ttl_s: float = 600.0
    login_attempts: int = 10
    login_window_s: float = 60.0
    session_max_age_s: int = 12 * 3600
