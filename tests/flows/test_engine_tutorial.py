"""The PocketFlow tutorial's programs ("Build an LLM Web App in Python from Scratch: Part 1").

The math example and the HITL joke bot are copied verbatim from the tutorial and run twice,
once after ``from pocketflow import Node, Flow`` and once after ``from flows import Node,
Flow``, with scripted ``input``/``call_llm`` and a captured ``print``. Both must print the
same lines, leave the same shared store and raise the same warnings.

The tutorial writes ``Flow(start_node=...)``, which PocketFlow itself rejects (its parameter
is ``start``); we keep that constructor signature, so the verbatim text fails identically on
both, and the programs run with the cookbook's spelling ``Flow(start=...)``.
"""

import warnings
from collections.abc import Iterator
from typing import Any

import pytest

MATH = """
class AddFive(Node):
    def prep(self, shared):
        return shared.get("number_to_process", 0)

    def exec(self, current_number):
        return current_number + 5

    def post(self, shared, prep_res, addition_result):
        shared["intermediate_result"] = addition_result
        print(f"AddFive Node: Added 5, result is {addition_result}")
        return "default" # Signal "all good, continue"

class MultiplyByTwo(Node):
    def prep(self, shared):
        return shared["intermediate_result"]

    def exec(self, current_number):
        return current_number * 2

    def post(self, shared, prep_res, multiplication_result):
        shared["final_answer"] = multiplication_result
        print(f"MultiplyByTwo Node: Multiplied, final answer is {multiplication_result}")
        return "done" # Signal "all finished with this path"

# First, make our specialist worker Nodes
adder_node = AddFive()
multiplier_node = MultiplyByTwo()

adder_node >> multiplier_node

# Create the Flow manager
math_flow = Flow(start_node=adder_node)

# Let's get some data for them to work on
shared_store_for_math = {"number_to_process": 10}
print(f"\\nStarting math game with: {shared_store_for_math}")

# Run the flow!
math_flow.run(shared_store_for_math)

print(f"Math game finished. Whiteboard looks like: {shared_store_for_math}")
"""

JOKE_BOT = """
class GetTopicNode(Node):
    def prep(self, shared):
        shared["topic"] = None
        shared["current_joke"] = None
        shared["disliked_jokes"] = []
        shared["user_feedback"] = None
        return None

    def exec(self, _prep_res):
        return input("What topic shall I jest about today? ")

    def post(self, shared, _prep_res, topic_input):
        shared["topic"] = topic_input
        print(f"Alright, a joke about '{topic_input}'! Coming right up...")
        return "generate_joke"

class GenerateJokeNode(Node):
    def prep(self, shared):
        topic = shared.get("topic", "something random")
        disliked = shared.get("disliked_jokes", [])

        prompt = f"Tell me a short, funny joke about: {topic}."
        if disliked:
            avoid_these = "; ".join(disliked)
            prompt += f" Please try to make it different from these: [{avoid_these}]."
        return prompt

    def exec(self, joke_prompt):
        return call_llm(joke_prompt)

    def post(self, shared, _prep_res, ai_joke):
        shared["current_joke"] = ai_joke
        print(f"🤖 AI Suggests: {ai_joke}")
        return "get_feedback"

class GetFeedbackNode(Node):
    def prep(self, shared):
        return None

    def exec(self, _prep_res):
        while True:
            decision = input("Did you like this joke? (yes/no): ").strip().lower()
            if decision in ["yes", "y", "no", "n"]:
                return decision
            print("Hmm, I didn't catch that. Please type 'yes' or 'no'.")

    def post(self, shared, _prep_res, user_decision):
        if user_decision in ["yes", "y"]:
            print("🎉 Hooray! Glad you liked it!")
            shared["user_feedback"] = "approve"
            return "joke_approved"
        else:
            print("😅 Oops! My circuits must be crossed. Let me try again...")
            shared["user_feedback"] = "disapprove"
            current_joke = shared.get("current_joke")
            if current_joke:
                shared.setdefault("disliked_jokes", []).append(current_joke)
            return "regenerate_joke"

# 1. Make our specialist Node workers
get_topic_node = GetTopicNode()
generate_joke_node = GenerateJokeNode()
get_feedback_node = GetFeedbackNode()

# 2. Draw the paths for the Flow manager
get_topic_node - "generate_joke" >> generate_joke_node
generate_joke_node - "get_feedback" >> get_feedback_node
get_feedback_node - "regenerate_joke" >> generate_joke_node

# 3. Let's Run Our HITL Joke Bot!
shared = {
    "topic": None, "current_joke": None,
    "disliked_jokes": [], "user_feedback": None
}
hitl_joke_flow = Flow(start_node=get_topic_node)
hitl_joke_flow.run(shared)

print(f"\\n🎤 Joke session over! Here's what happened: {shared}")
"""


def run_program(module: str, source: str) -> dict[str, Any]:
    """Run ``source`` after ``from <module> import Node, Flow``; return what it did."""
    answers: Iterator[str] = iter(["cats", "no", "maybe", "YES"])
    jokes: Iterator[str] = iter(
        ["Cats rule.", "Why did the cat sit on the laptop? To keep an eye on the mouse."]
    )
    printed: list[str] = []
    prompts: list[str] = []

    def fake_input(prompt: str) -> str:
        printed.append(prompt)
        return next(answers)

    def call_llm(prompt: str) -> str:
        prompts.append(prompt)
        return next(jokes)

    namespace: dict[str, Any] = {
        "input": fake_input,
        "call_llm": call_llm,
        "print": lambda *args: printed.append(" ".join(map(str, args))),
    }
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        # the tutorial's text is the program under test, run as a module would run it
        exec(f"from {module} import Node, Flow\n{source}", namespace)  # noqa: S102
    shared = namespace.get("shared", namespace.get("shared_store_for_math"))
    return {
        "printed": printed,
        "llm_prompts": prompts,
        "shared": shared,
        "warnings": [(w.category, str(w.message)) for w in caught],
    }


@pytest.mark.parametrize("source", [MATH, JOKE_BOT], ids=["math", "joke_bot"])
@pytest.mark.parametrize("module", ["pocketflow", "flows"])
def test_engine_tutorial_verbatim_start_node_keyword_fails_like_pocketflow(
    module: str, source: str
) -> None:
    with pytest.raises(
        TypeError, match=r"__init__\(\) got an unexpected keyword argument 'start_node'"
    ):
        run_program(module, source)


def test_engine_tutorial_math_example_runs_unchanged() -> None:
    program = MATH.replace("Flow(start_node=", "Flow(start=")

    ours, theirs = run_program("flows", program), run_program("pocketflow", program)

    assert ours == theirs
    assert ours["printed"] == [
        "\nStarting math game with: {'number_to_process': 10}",
        "AddFive Node: Added 5, result is 15",
        "MultiplyByTwo Node: Multiplied, final answer is 30",
        "Math game finished. Whiteboard looks like: "
        "{'number_to_process': 10, 'intermediate_result': 15, 'final_answer': 30}",
    ]
    assert ours["warnings"] == []


def test_engine_tutorial_joke_bot_runs_unchanged() -> None:
    program = JOKE_BOT.replace("Flow(start_node=", "Flow(start=")

    ours, theirs = run_program("flows", program), run_program("pocketflow", program)

    assert ours == theirs
    assert ours["shared"] == {
        "topic": "cats",
        "current_joke": "Why did the cat sit on the laptop? To keep an eye on the mouse.",
        "disliked_jokes": ["Cats rule."],
        "user_feedback": "approve",
    }
    assert ours["llm_prompts"][1] == (
        "Tell me a short, funny joke about: cats. "
        "Please try to make it different from these: [Cats rule.]."
    )
    assert "Hmm, I didn't catch that. Please type 'yes' or 'no'." in ours["printed"]
    # "joke_approved" has no successor: PocketFlow ends the flow with this warning
    assert ours["warnings"] == [
        (UserWarning, "Flow ends: 'joke_approved' not found in ['regenerate_joke']")
    ]
