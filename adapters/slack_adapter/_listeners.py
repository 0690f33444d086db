"""Bolt listeners: what /joke, a card button and a form submit do (call the sink, answer)."""

import asyncio
import logging
import re
import weakref
from collections.abc import Mapping
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from adapters._review import (
    GENERIC_FAILURE,
    Form,
    Prefill,
    answer,
    button_for,
    is_status,
    prefill,
    settled,
    within_deadline,
)
from adapters._text import safe
from adapters.slack_adapter._buttons import ACTION_PATTERN, CALLBACK_PATTERN, INPUT_BLOCKS
from adapters.slack_adapter._config import PLATFORM, SlackConfig
from adapters.slack_adapter._inbound import (
    Click,
    actor,
    to_click,
    to_command,
    to_joke_request,
    to_submission,
)
from adapters.slack_adapter._link import is_link, link
from adapters.slack_adapter._messages import answer as answer_text, status_answer
from adapters.slack_adapter._moderators import Moderators
from adapters.slack_adapter._render import decided_blocks, draft_from_blocks, form_modal, status
from adapters.slack_adapter._screen import is_screen, screen
from adapters.slack_adapter._setup import is_setup, setup
from bot.errors import BadRequest
from bot.models import Actor, DecideResult, DecideStatus, DecisionRequest
from bot.ports import EventSink

log = logging.getLogger(__name__)

USAGE = "Tell me what the joke should be about, e.g. `/joke cats`."
WORKING = "Working on it… I'll answer here in a moment."
NOT_OURS = "This button is no longer valid (it may come from an old card)."
OTHER_TEAM = (
    "This jokebot is set up for another Slack workspace; it takes requests from that one only."
)
MODAL_FAILED = "Slack could not open the form ({error}); please click the button again."
SLOW_ANSWER = "Your decision on the joke was not applied: {message}"
LOOKUP_BUDGET_S = 1.0
_LISTENERS: "weakref.WeakKeyDictionary[AsyncApp, SlackListeners]" = weakref.WeakKeyDictionary()
_TELL_ERRORS = (SlackApiError, aiohttp.ClientError, asyncio.TimeoutError, OSError)


class SlackListeners:
    """The Bolt listeners; each converts the Slack body first, then answers within Slack's 3 s.

    What is saved is saved before the ack: a ``/joke`` run, a click's or a form's decision.
    """

    def __init__(self, sink: EventSink, config: SlackConfig, moderators: Moderators) -> None:
        self._sink = sink
        self._config = config
        self._moderators = moderators
        self._active: set[asyncio.Task[Any]] = set()

    def _track(self) -> None:
        # Work after ack() runs in Bolt's own tasks; remember them so shutdown can wait.
        task = asyncio.current_task()
        if task is not None and task not in self._active:
            self._active.add(task)
            task.add_done_callback(self._active.discard)

    async def drain(self, timeout_s: float) -> None:
        """Wait (at most ``timeout_s``) for listeners still working after their ack."""
        pending = self._active - {asyncio.current_task()}
        if pending:
            await asyncio.wait(pending, timeout=timeout_s)

    def register(self, app: AsyncApp) -> None:
        """Attach every listener to ``app``."""
        app.command(self._config.command)(self.on_joke)
        app.action(re.compile(ACTION_PATTERN))(self.on_click)
        app.view(re.compile(CALLBACK_PATTERN))(self.on_submit)
        app.error(self.on_error)
        _LISTENERS[app] = self

    def _ours(self, team_id: str, context: AsyncBoltContext) -> bool:
        """True when a request comes from the workspace this bot serves (single-workspace).

        That is ``SlackConfig.team_id`` when set, else the bot token's workspace from
        ``auth.test`` (Bolt's authorization makes that call and keeps its answer).
        """
        authorized = context.authorize_result
        expected = self._config.team_id or (authorized.team_id if authorized else None)
        if expected and team_id == expected:
            return True
        log.warning("%s: refused a request from workspace %r", PLATFORM, team_id)
        return False

    async def on_joke(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        respond: AsyncRespond | None,
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        self._track()
        try:
            command = to_command(body)
        except BadRequest as exc:
            log.warning("%s: malformed %s: %s", PLATFORM, self._config.command, exc)
            await ack("Slack sent an incomplete command; please try again.")
            return
        if not self._ours(command.team_id, context):
            await ack(text=OTHER_TEAM, response_type="ephemeral")
            return
        if not command.topic:
            await ack(USAGE)  # decided without any slow call: answer in the ack itself
            return
        if is_link(command):
            answer = await link(command, self._sink, self._moderators)
            await ack(text=answer_text(answer), response_type="ephemeral")
            return
        if is_status(command.topic):
            await ack(text=await self._status(command.user_id), response_type="ephemeral")
            return
        if is_screen(command):
            answer = await screen(command, self._sink, self._moderators, self._config)
            await ack(text=answer_text(answer), response_type="ephemeral")
            return
        if is_setup(command):
            answer = await setup(command, self._sink, self._moderators, self._config)
            await ack(text=answer_text(answer), response_type="ephemeral")
            return
        request = to_joke_request(command, self._config)
        acked = False

        async def working() -> None:
            nonlocal acked
            acked = True
            await ack(text=WORKING, response_type="ephemeral")

        # Save the run first (one short transaction), then acknowledge with the answer: an
        # acknowledged request is never lost. Should the save outlast the budget, the deadline
        # guard acks "working on it" in time and the answer follows via response_url.
        try:
            result, _ = await within_deadline(
                self._sink.request_joke(request), self._config.request_budget_s, working
            )
            message = result.message
        except Exception:
            log.exception("%s: request %s failed", PLATFORM, request.request_key)
            message = GENERIC_FAILURE
        if not acked:
            await ack(text=answer_text(message), response_type="ephemeral")
            return
        await self._tell(client, respond, command.channel_id, command.user_id, message)

    async def _status(self, user_id: str) -> str:
        """``/joke status``: one short read, answered in the ack itself."""
        try:
            return status_answer(await self._sink.status(actor(user_id)))
        except Exception:
            log.exception("%s: /joke status failed for %s", PLATFORM, user_id)
            return answer_text(GENERIC_FAILURE)

    async def on_click(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        respond: AsyncRespond | None,
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        self._track()
        try:
            click = to_click(body)
        except BadRequest as exc:
            await ack()
            log.warning("%s: unusable button click: %s", PLATFORM, exc)
            user = body.get("user")
            user_id = str(user.get("id", "")) if isinstance(user, Mapping) else ""
            await self._tell(client, respond, "", user_id, NOT_OURS)
            return
        if not self._ours(click.team_id, context):
            await ack()
            await self._tell_click(client, respond, click, OTHER_TEAM)
            return
        button = button_for(click.action)
        if button is not None and button.form is not None:
            await ack()  # nothing is decided yet: the form's submission decides
            await self._open_form(click, button.form, client, respond)
        else:
            await self._decide_now(click, ack, client, respond)

    async def _open_form(
        self, click: Click, form: Form, client: AsyncWebClient, respond: AsyncRespond | None
    ) -> None:
        # A cold group cache costs one lookup; bounded, so the 3 s trigger_id stays usable.
        is_moderator = self._moderators.known(click.user_id)
        if is_moderator is None:
            is_moderator = await self._moderators.check_within(click.user_id, LOOKUP_BUDGET_S)
        if is_moderator is False:
            # Let the runtime give its FORBIDDEN answer instead of showing a useless form.
            await self._decide_and_tell(
                click, form.action, actor(click.user_id, name=click.user_name), client, respond
            )
            return
        draft = draft_from_blocks(click.blocks) if form.prefilled else ""
        if draft is None:  # the card does not show it: ask the store, within the budget
            found = await self._prefill(click.token)
            if found.refusal is not None:
                await self._tell_click(client, respond, click, found.refusal)
                return
            draft = found.draft
        try:
            # trigger_id dies 3 s after the click: open the modal before anything slow.
            view = form_modal(form, click.token, draft)
            await client.views_open(trigger_id=click.trigger_id, view=view)
        except SlackApiError as exc:
            error = str(exc.response.get("error", "unknown error"))
            log.warning("%s: views.open failed: %s", PLATFORM, error)
            await self._tell_click(client, respond, click, MODAL_FAILED.format(error=error))

    async def _prefill(self, token: str) -> Prefill:
        try:
            return await asyncio.wait_for(prefill(self._sink, token), timeout=LOOKUP_BUDGET_S)
        except Exception:
            # The submit's decision checks the review again: open the form empty meanwhile.
            log.warning("%s: no draft for the Edit modal of %s", PLATFORM, token, exc_info=True)
            return Prefill()

    async def _decide_now(
        self, click: Click, ack: AsyncAck, client: AsyncWebClient, respond: AsyncRespond | None
    ) -> None:
        """Approve or plain Reject: decide, then ack, then stamp the card.

        The ack comes after the decision has committed, so a click Slack saw acknowledged is
        never lost (a crash before the ack leaves Slack to deliver it again: the inbox makes
        that delivery a duplicate, or the first to apply). A slow store is acked at the budget
        and the decision carries on; its answer then follows via response_url.
        """

        async def decide() -> tuple[Actor, DecideResult | None]:
            moderator = await self._moderators.check(click.user_id)
            clicker = actor(click.user_id, moderator, name=click.user_name)
            request = DecisionRequest(click.token, click.action, clicker, click.interaction_id)
            return clicker, await self._decide(request)

        (clicker, result), late = await within_deadline(decide(), self._config.decide_budget_s, ack)
        if not late:
            await ack()
        if result is not None and result.status is DecideStatus.APPLIED:
            await self._stamp_card(client, click, status(click.action, clicker.display))
        elif not settled(result):
            who = (result.decided_by,) if result is not None else ()
            await self._tell_click(client, respond, click, answer(result), who)

    async def _decide_and_tell(
        self,
        click: Click,
        action: str,
        clicker: Actor,
        client: AsyncWebClient,
        respond: AsyncRespond | None,
    ) -> DecideResult | None:
        request = DecisionRequest(click.token, action, clicker, click.interaction_id)
        result = await self._decide(request)
        if result is None or result.status is not DecideStatus.APPLIED:
            who = (result.decided_by,) if result is not None else ()
            await self._tell_click(client, respond, click, answer(result), who)
        return result

    async def _decide(self, request: DecisionRequest) -> DecideResult | None:
        try:
            return await self._sink.decide(request)
        except Exception:
            log.exception("%s: decision %s on %s failed", PLATFORM, request.action, request.token)
            return None

    async def _stamp_card(self, client: AsyncWebClient, click: Click, status: str) -> None:
        if not (click.channel_id and click.message_ts and click.blocks):
            return
        try:
            await client.chat_update(
                channel=click.channel_id,
                ts=click.message_ts,
                text=status,
                blocks=decided_blocks(click.blocks, status),
            )
        except _TELL_ERRORS as exc:
            # Not fatal: the runtime's review.update effect edits the card the same way.
            log.warning("%s: stamping the card after a click failed: %s", PLATFORM, exc)

    async def on_submit(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        self._track()
        try:
            sub = to_submission(body)
        except BadRequest as exc:
            log.warning("%s: unusable form submission: %s", PLATFORM, exc)
            await ack()
            return
        block = INPUT_BLOCKS[sub.form.kind]
        if not self._ours(sub.team_id, context):
            await ack(response_action="errors", errors={block: OTHER_TEAM[:150]})
            return
        data = sub.form.data(sub.text)
        if data is None:
            await ack(response_action="errors", errors={block: sub.form.empty})
            return

        async def decide() -> DecideResult | None:
            moderator = await self._moderators.check(sub.user_id)
            clicker = actor(sub.user_id, moderator, name=sub.user_name)
            request = DecisionRequest(sub.token, sub.form.action, clicker, sub.interaction_id, data)
            return await self._decide(request)

        # The modal's answer must travel in the ack (within 3 s): wait for the decision only
        # as long as the budget allows, then close the modal and answer by DM.
        result, late = await within_deadline(decide(), self._config.decide_budget_s, ack)
        if late:
            if not settled(result):
                told = SLOW_ANSWER.format(message=answer(result))
                who = (result.decided_by,) if result is not None else ()
                await self._dm(client, sub.user_id, answer_text(told, who))
        elif settled(result):
            await ack()  # closes the modal; the runtime's review.update edits the card
        else:
            # Modal errors are plain text, at most 150 characters long on Slack.
            await ack(response_action="errors", errors={block: safe(answer(result), 150)})

    async def on_error(self, error: Exception) -> None:
        # Never the body: it carries response URLs and user text.
        log.error("%s: unhandled error in a listener: %r", PLATFORM, error, exc_info=error)

    async def _tell_click(
        self,
        client: AsyncWebClient,
        respond: AsyncRespond | None,
        click: Click,
        text: str,
        mentions: tuple[str | None, ...] = (),
    ) -> None:
        await self._tell(
            client, respond, click.channel_id, click.user_id, text, mentions, replace=False
        )

    async def _tell(
        self,
        client: AsyncWebClient,
        respond: AsyncRespond | None,
        channel: str,
        user: str,
        text: str,
        mentions: tuple[str | None, ...] = (),
        *,
        replace: bool | None = None,
    ) -> None:
        """An ephemeral answer: via response_url, else chat.postEphemeral, else a DM.

        ``text`` is escaped; ``mentions`` (e.g. who decided first) stay live in it.
        """
        text = answer_text(text, mentions)
        if respond is not None and respond.response_url:
            # Not respond(): it opens a new HTTP session per call; reuse the app's pool.
            webhook = AsyncWebhookClient(respond.response_url, session=client.session)
            message: dict[str, Any] = {"text": text, "response_type": "ephemeral"}
            if replace is not None:
                message["replace_original"] = replace
            try:
                resp = await webhook.send_dict(message)
                if resp.status_code == 200:
                    return
                log.warning("%s: response_url answered %s", PLATFORM, resp.status_code)
            except _TELL_ERRORS as exc:
                log.warning("%s: response_url failed: %s", PLATFORM, exc)
        if channel and user:
            try:
                await client.chat_postEphemeral(channel=channel, user=user, text=text)
                return
            except _TELL_ERRORS as exc:
                log.warning("%s: chat.postEphemeral in %s failed: %s", PLATFORM, channel, exc)
        await self._dm(client, user, text)

    async def _dm(self, client: AsyncWebClient, user: str, text: str) -> None:
        """A DM with already escaped ``text`` (chat.postMessage to a user id)."""
        if not user:
            return
        try:
            await client.chat_postMessage(channel=user, text=text)
        except _TELL_ERRORS as exc:
            log.warning("%s: could not tell %s anything: %s", PLATFORM, user, exc)


async def drain_listeners(app: AsyncApp, timeout_s: float = 5.0) -> None:
    """Let ``app``'s listeners finish what they started after their ack (shutdown)."""
    listeners = _LISTENERS.get(app)
    if listeners is not None:
        await listeners.drain(timeout_s)
