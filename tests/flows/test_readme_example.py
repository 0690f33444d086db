"""The README's "Writing a flow" example runs as written (extracted from README.md)."""

import json
import re
import textwrap
from pathlib import Path
from typing import Any

README = Path(__file__).resolve().parents[2] / "README.md"


async def test_readme_flow_example_suspends_and_resumes() -> None:
    text = README.read_text(encoding="utf-8")
    code = re.search(r"## Writing a flow.*?```python\n(.*?)```", text, re.S)
    assert code is not None, "the README lost its flow example"
    body = code.group(1).replace("\nawait ", "\nfinal = await ")  # keep the last result
    source = "async def example():\n" + textwrap.indent(body, "    ")
    source += "\n    return result, checkpoint, final\n"
    namespace: dict[str, Any] = {"json": json}
    exec(compile(source, str(README), "exec"), namespace)  # noqa: S102  # our own README

    result, checkpoint, final = await namespace["example"]()

    assert checkpoint["status"] == "waiting"
    assert checkpoint["wait"]["payload"] == {"draft": "A joke about cats"}
    assert result.wait.kind == "review"
    assert final is None  # Publish.post returns None: the flow ends there
