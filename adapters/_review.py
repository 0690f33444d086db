"""Platform-neutral review logic shared by every adapter: button ids and their actions."""

BUTTON_PREFIX = "jk:v1"


def button_id(token: str, action: str) -> str:
    """The id a platform button carries: ``jk:v1:<token>:<action>`` (at most 100 chars)."""
    return f"{BUTTON_PREFIX}:{token}:{action}"


def parse_button_id(custom_id: str) -> tuple[str, str] | None:
    """``(token, action)`` from a button id, or None for ids that are not ours."""
    parts = custom_id.split(":")
    if len(parts) != 4 or f"{parts[0]}:{parts[1]}" != BUTTON_PREFIX:
        return None
    token, action = parts[2], parts[3]
    if not token.isalnum() or not action.replace("_", "").isalnum():
        return None
    return token, action
