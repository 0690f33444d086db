"""Translate openai SDK exceptions into one clear :class:`bot.errors.LLMError`."""

import openai

from bot.errors import LLMError


def to_llm_error(exc: Exception, *, host: str, model: str, timeout: float) -> LLMError:
    """The :class:`LLMError` (kind + message safe to show) for an exception from the SDK."""
    # APITimeoutError subclasses APIConnectionError: test it first.
    if isinstance(exc, openai.APITimeoutError):
        return LLMError("timeout", f"{host} did not answer within {timeout:g} s (LLM_TIMEOUT)")
    if isinstance(exc, openai.APIConnectionError):
        return LLMError(
            "unreachable", f"cannot connect to {host}: check OPENAI_BASE_URL and the network"
        )
    if isinstance(exc, openai.APIStatusError):
        return _status_error(exc, host=host, model=model)
    if type(exc) is openai.APIError:  # an error event inside a reply stream
        return LLMError("unavailable", f"{host} failed mid-reply: {str(exc.message)[:200]}")
    if isinstance(exc, openai.APIResponseValidationError | ValueError):
        # ValueError covers json.JSONDecodeError from a malformed JSON body.
        return LLMError("bad_response", f"{host} sent a malformed reply ({type(exc).__name__})")
    return LLMError("bad_response", f"{host} failed: {type(exc).__name__}")


def _status_error(exc: openai.APIStatusError, *, host: str, model: str) -> LLMError:
    status = exc.status_code
    detail = _detail(exc)
    if status in (401, 403):
        return LLMError("auth", f"{host} refused the API key ({status}): check OPENAI_API_KEY")
    if status == 404:
        if exc.code == "model_not_found" or "model" in detail.lower():
            return LLMError("unknown_model", f"{host} has no model {model!r}: check OPENAI_MODEL")
        return LLMError(
            "unreachable",
            f"{host} has no chat completions endpoint (404): check OPENAI_BASE_URL "
            "(it usually ends in /v1)",
        )
    if status == 429:
        what = "quota exceeded" if exc.code == "insufficient_quota" else "rate limited"
        return LLMError("rate_limited", f"{host}: {what} (429); try again later")
    if status >= 500:
        return LLMError("unavailable", f"{host} is failing ({status}); try again later")
    return LLMError("bad_response", f"{host} refused the request ({status}): {detail}")


def _detail(exc: openai.APIStatusError) -> str:
    """The provider's own error message, shortened."""
    body = exc.body
    message = body.get("message") if isinstance(body, dict) else None
    text = message if isinstance(message, str) else exc.message
    return text[:200]
