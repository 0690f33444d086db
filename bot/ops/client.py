"""``jokebot health``: ask a running process's ``/health/ready`` and say what it answered."""

import json

import aiohttp

EXIT_READY, EXIT_NOT_READY, EXIT_UNREACHABLE = 0, 1, 2


def ready_url(host: str, port: int) -> str:
    """The readiness URL of a server bound to ``host`` (a wildcard address means this host)."""
    if host in ("0.0.0.0", "::", ""):  # noqa: S104  # bound to every address: ask loopback
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/health/ready"


async def probe(url: str, timeout_s: float = 5.0) -> tuple[int, str]:
    """``(exit status, text to print)``: 0 ready, 1 not ready, 2 unreachable."""
    try:
        timeout = aiohttp.ClientTimeout(total=timeout_s)
        async with aiohttp.ClientSession(timeout=timeout) as session, session.get(url) as reply:
            body = await reply.text()
            status = reply.status
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        text = json.dumps({"status": "unreachable", "url": url, "error": str(exc) or repr(exc)})
        return EXIT_UNREACHABLE, text
    return (EXIT_READY if status == 200 else EXIT_NOT_READY), body
