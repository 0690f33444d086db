"""adapters._text.printable: what the terminal prints keeps its layout and loses every control."""

import pytest

from adapters._text import clean, printable


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\n📣 joke\n   (requested by ana)", "\n📣 joke\n   (requested by ana)"),  # layout kept
        ("fine\x1b[2J\x07", "fine[2J"),  # the escape and the bell go, the rest is inert
        ("a\rb", "a\nb"),  # a carriage return would overwrite the line
        ("a\r\nb", "a\nb"),
        ("\u202eevil", "evil"),  # direction override
        ("@\u200beveryone", "@everyone"),  # zero-width space
        ("👩\u200d💻", "👩\u200d💻"),  # the emoji joiner stays
        ("tab\there", "tab\there"),
    ],
)
def test_printable_drops_controls_and_keeps_layout(raw: str, shown: str) -> None:
    assert printable(raw) == shown


def test_printable_removes_what_clean_removes() -> None:
    text = "".join(chr(c) for c in range(0x20)) + "x\u2066y\U000e0041z\ud800"
    assert printable(text).replace("\n", "").replace("\t", "") == clean(text).replace(" ", "")
