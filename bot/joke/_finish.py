"""The terminal nodes: publish the joke or stop, telling the requester either way."""

from bot.joke import prompts
from bot.joke._state import (
    CANCELLED,
    EXPIRED,
    GAVE_UP,
    MODEL_DOWN,
    NO_CLEAN_JOKE,
    PUBLISHED,
    JokeState,
    audit,
    emit_alert,
    emit_text,
    notice_fields,
)
from bot.models import EffectKind, PublishPayload
from flows import Effect, Node, emit


class _FinishRun(Node):
    """A terminal node: record the outcome, tell the requester, audit; no successors."""

    outcome = ""
    notice = ""  # a prompts template, filled from notice_fields()

    def post(self, shared: JokeState, prep_res: None, exec_res: None) -> str:
        shared["outcome"] = self.outcome
        emit_text(EffectKind.NOTIFY, self.notice.format(**notice_fields(shared)))
        audit(
            self.outcome,
            topic=shared["topic"],
            attempt=shared["attempt"],
            screened_out=shared["screened_out"],
            by=shared["decided_by"],
        )
        return self.outcome


class PublishJoke(_FinishRun):
    """Post the approved (or edited) joke publicly and tell the requester."""

    node_id, outcome, notice = "publish_joke", PUBLISHED, prompts.PUBLISHED

    def post(self, shared: JokeState, prep_res: None, exec_res: None) -> str:
        payload = PublishPayload(
            text=shared["final_text"], topic=shared["topic"], requester=shared["requester"]
        )
        emit(Effect(EffectKind.PUBLISH.value, payload))
        if shared["edited"]:
            edited = shared["final_text"]
            audit("edited", original=shared["draft"], edited=edited, by=shared["decided_by"])
        return super().post(shared, prep_res, exec_res)


class GiveUp(_FinishRun):
    """Every allowed draft was rejected."""

    node_id, outcome, notice = "give_up", GAVE_UP, prompts.GAVE_UP


class ExpireRequest(_FinishRun):
    """No moderator decided in time: fail closed, nothing is published."""

    node_id, outcome, notice = "expire_request", EXPIRED, prompts.EXPIRED


class CancelRequest(_FinishRun):
    """The run was cancelled while it waited for the model."""

    node_id, outcome, notice = "cancel_request", CANCELLED, prompts.CANCELLED


class ReportNoCleanJoke(_FinishRun):
    """Every silent regeneration for one draft was screened out."""

    node_id, outcome, notice = "report_no_clean_joke", NO_CLEAN_JOKE, prompts.NO_CLEAN_JOKE


class ReportModelDown(_FinishRun):
    """The model failed too many times in a row: tell the requester and the moderators."""

    node_id, outcome, notice = "report_model_down", MODEL_DOWN, prompts.MODEL_GAVE_UP

    def post(self, shared: JokeState, prep_res: None, exec_res: None) -> str:
        emit_alert(prompts.ALERT_MODEL_GAVE_UP, shared)
        return super().post(shared, prep_res, exec_res)
