from slack_sdk.signature import Clock, SignatureVerifier

from adapters.slack_adapter._client import signed
from tests.support.fake_slack import sign, signed_headers

VECTOR_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"  # noqa: S105  # Slack's documented vector
VECTOR_TS = 1531420618
VECTOR_BODY = (
    "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
    "&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="
    "&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibI"
    "GlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
)
VECTOR_SIG = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"


def test_sign_matches_the_documented_vector() -> None:
    assert sign(VECTOR_SECRET, VECTOR_TS, VECTOR_BODY) == VECTOR_SIG


def test_sign_of_bytes_equals_sign_of_text() -> None:
    assert sign(VECTOR_SECRET, VECTOR_TS, VECTOR_BODY.encode()) == VECTOR_SIG


def test_sign_changes_with_one_byte_of_body() -> None:
    assert sign(VECTOR_SECRET, VECTOR_TS, VECTOR_BODY + "x") != VECTOR_SIG


def test_signed_headers_verify_with_slack_sdk() -> None:
    headers = signed_headers(VECTOR_SECRET, VECTOR_BODY, timestamp=VECTOR_TS, retry_num=1)

    class FixedClock(Clock):
        def now(self) -> float:
            return VECTOR_TS + 10.0

    verifier = SignatureVerifier(VECTOR_SECRET, clock=FixedClock())
    assert verifier.is_valid_request(VECTOR_BODY, headers)
    assert headers["X-Slack-Retry-Num"] == "1"


def test_the_adapter_checks_the_documented_vector_on_raw_bytes() -> None:
    headers = signed_headers(VECTOR_SECRET, VECTOR_BODY, timestamp=VECTOR_TS)
    raw = VECTOR_BODY.encode()

    assert signed(VECTOR_SECRET, raw, headers, VECTOR_TS + 10.0)
    assert not signed(VECTOR_SECRET, raw + b"x", headers, VECTOR_TS + 10.0)
    assert not signed(VECTOR_SECRET, raw, headers, VECTOR_TS + 301.0)  # replay window
    assert not signed(VECTOR_SECRET, raw, {**headers, "X-Slack-Request-Timestamp": "x"}, 0.0)


def test_a_body_that_is_not_utf8_is_checked_not_raised_on() -> None:
    raw = b"text=caf\xe9"
    headers = {"X-Slack-Request-Timestamp": str(VECTOR_TS)}
    headers["X-Slack-Signature"] = sign(VECTOR_SECRET, VECTOR_TS, raw)

    assert signed(VECTOR_SECRET, raw, headers, VECTOR_TS)
    assert not signed("other", raw, headers, VECTOR_TS)
