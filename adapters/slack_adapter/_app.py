"""Bolt listeners: /joke, the four card buttons and the two modals, for the EventSink."""

import asyncio
import logging
import re
import weakref
from collections.abc import Mapping
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from adapters.slack_adapter._blocks import (
    ACTION_PATTERN,
    EDIT_BLOCK,
    EDIT_CALLBACK,
    REASON_BLOCK,
    REASON_CALLBACK,
    decided_blocks,
    draft_from_blocks,
    edit_modal,
    reason_modal,
)
from adapters.slack_adapter._config import SlackConfig
from adapters.slack_adapter._events import Click, Command, to_click, to_command, to_submission
from adapters.slack_adapter._moderators import Moderators
from bot.errors import BadRequest
from bot.models import (
    Actor,
    DecideResult,
    DecideStatus,
    DecisionRequest,
    JokeRequest,
    Origin,
    RequestResult,
    RequestStatus,
)
from bot.ports import EventSink
from bot.review import outcome_line

log = logging.getLogger(__name__)

USAGE = "Tell me what the joke should be about, e.g. `/joke cats`."
FAILED = "Something went wrong on our side; the error was logged. Please try again later."
NOT_OURS = "This button is no longer valid (it may come from an old card)."
MODAL_FAILED = "Slack could not open the form ({error}); please click the button again."
EMPTY_REASON = "Please give a reason, or use Reject."
SLOW_ANSWER = "Your decision on the joke was not applied: {message}"
LOOKUP_BUDGET_S = 1.0
_LISTENERS: "weakref.WeakKeyDictionary[AsyncApp, SlackListeners]" = weakref.WeakKeyDictionary()
_TELL_ERRORS = (SlackApiError, aiohttp.ClientError, asyncio.TimeoutError, OSError)


class SlackListeners:
    """The Bolt listeners; each converts the Slack body first, acks, then calls the sink."""

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
        app.view(EDIT_CALLBACK)(self.on_edit_submit)
        app.view(REASON_CALLBACK)(self.on_reason_submit)
        app.error(self.on_error)
        _LISTENERS[app] = self

    async def on_joke(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        respond: AsyncRespond | None,
        client: AsyncWebClient,
    ) -> None:
        self._track()
        try:
            command = to_command(body)
        except BadRequest as exc:
            log.warning("slack: malformed %s: %s", self._config.command, exc)
            await ack("Slack sent an incomplete command; please try again.")
            return
        if not command.topic:
            await ack(USAGE)  # decided without any slow call: answer in the ack itself
            return
        await ack()  # before the database or anything that may wait; the answer follows
        result = await self._request(command)
        await self._tell(client, respond, command.channel_id, command.user_id, result.message)

    async def _request(self, command: Command) -> RequestResult:
        config = self._config
        requester = _actor(command.user_id)
        request = JokeRequest(
            # trigger_id is the same in every redelivery of this command: one run per key.
            request_key=f"slack:{command.team_id}:{command.trigger_id}",
            origin=Origin(
                platform="slack",
                scope=command.team_id,
                requester=requester,
                mod_channel=config.mod_channel,
                public_channel=config.public_channel,
                reply_channel=command.channel_id,
            ),
            topic=command.topic,
        )
        try:
            return await self._sink.request_joke(request)
        except Exception:
            log.exception("slack: request %s failed", request.request_key)
            return RequestResult(RequestStatus.FAILED, FAILED)

    async def on_click(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        respond: AsyncRespond | None,
        client: AsyncWebClient,
    ) -> None:
        self._track()
        await ack()
        try:
            click = to_click(body)
        except BadRequest as exc:
            log.warning("slack: unusable button click: %s", exc)
            user = body.get("user")
            user_id = str(user.get("id", "")) if isinstance(user, Mapping) else ""
            await self._tell(client, respond, "", user_id, NOT_OURS)
            return
        if click.action in ("edit", "reason"):
            await self._open_modal(click, client, respond)
        else:
            await self._decide_now(click, client, respond)

    async def _open_modal(
        self, click: Click, client: AsyncWebClient, respond: AsyncRespond | None
    ) -> None:
        # A cold group cache costs one lookup; bounded, so the 3 s trigger_id stays usable.
        is_moderator = self._moderators.known(click.user_id)
        if is_moderator is None:
            is_moderator = await self._moderators.check_within(click.user_id, LOOKUP_BUDGET_S)
        if is_moderator is False:
            # Let the runtime give its FORBIDDEN answer instead of showing a useless form.
            await self._decide_and_tell(click, _actor(click.user_id), client, respond)
            return
        if click.action == "edit":
            draft = draft_from_blocks(click.blocks)
            if draft is None:
                draft = await self._stored_draft(click.token)
            view = edit_modal(click.token, draft)
        else:
            view = reason_modal(click.token)
        try:
            # trigger_id dies 3 s after the click: open the modal before anything slow.
            await client.views_open(trigger_id=click.trigger_id, view=view)
        except SlackApiError as exc:
            error = str(exc.response.get("error", "unknown error"))
            log.warning("slack: views.open failed: %s", error)
            await self._tell_click(client, respond, click, MODAL_FAILED.format(error=error))

    async def _stored_draft(self, token: str) -> str:
        try:
            info = await asyncio.wait_for(self._sink.wait_info(token), timeout=1.0)
        except Exception:
            log.warning("slack: no draft for the Edit modal of %s", token, exc_info=True)
            return ""
        if info is None:
            return ""
        card = info.payload.get("card")
        source = card if isinstance(card, Mapping) else info.payload
        return str(source.get("draft", ""))

    async def _decide_now(
        self, click: Click, client: AsyncWebClient, respond: AsyncRespond | None
    ) -> None:
        """Approve or plain Reject: decide in the click, then stamp the card at once."""
        actor = _actor(click.user_id, await self._moderators.check(click.user_id))
        result = await self._decide_and_tell(click, actor, client, respond)
        if result is not None and result.status is DecideStatus.APPLIED:
            await self._stamp_card(client, click, outcome_line(click.action, actor.display))

    async def _decide_and_tell(
        self, click: Click, actor: Actor, client: AsyncWebClient, respond: AsyncRespond | None
    ) -> DecideResult | None:
        request = DecisionRequest(click.token, click.action, actor, click.interaction_id)
        result = await self._decide(request)
        if result is None:
            await self._tell_click(client, respond, click, FAILED)
        elif result.status is not DecideStatus.APPLIED:
            await self._tell_click(client, respond, click, _answer(result))
        return result

    async def _decide(self, request: DecisionRequest) -> DecideResult | None:
        try:
            return await self._sink.decide(request)
        except Exception:
            log.exception("slack: decision %s on %s failed", request.action, request.token)
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
            log.warning("slack: stamping the card after a click failed: %s", exc)

    async def on_edit_submit(
        self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await self._submit(ack, body, client, "edit", EDIT_BLOCK)

    async def on_reason_submit(
        self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await self._submit(ack, body, client, "reject", REASON_BLOCK)

    async def _submit(
        self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, action: str, block: str
    ) -> None:
        self._track()
        try:
            sub = to_submission(body)
        except BadRequest as exc:
            log.warning("slack: unusable %s submission: %s", action, exc)
            await ack()
            return
        text = sub.text.strip()
        if not text:
            refusal = "Write the joke, or press Cancel." if action == "edit" else EMPTY_REASON
            await ack(response_action="errors", errors={block: refusal})
            return
        data = {"text": text} if action == "edit" else {"reason": text}

        async def decide() -> DecideResult | None:
            actor = _actor(sub.user_id, await self._moderators.check(sub.user_id))
            return await self._decide(
                DecisionRequest(sub.token, action, actor, sub.interaction_id, data)
            )

        # The modal's answer must travel in the ack (within 3 s): wait for the decision only
        # as long as the budget allows, then close the modal and answer by DM.
        task = asyncio.ensure_future(decide())
        done, _ = await asyncio.wait({task}, timeout=self._config.decide_budget_s)
        if not done:
            await ack()
            result = await task
            if result is None or result.status not in (
                DecideStatus.APPLIED,
                DecideStatus.DUPLICATE,
            ):
                await self._dm(client, sub.user_id, SLOW_ANSWER.format(message=_answer(result)))
            return
        result = task.result()
        if result is not None and result.status in (DecideStatus.APPLIED, DecideStatus.DUPLICATE):
            await ack()  # closes the modal; the runtime's review.update edits the card
        else:
            await ack(response_action="errors", errors={block: _answer(result)[:150]})

    async def on_error(self, error: Exception) -> None:
        # Never the body: it carries response URLs and user text.
        log.error("slack: unhandled error in a listener: %r", error, exc_info=error)

    async def _tell_click(
        self, client: AsyncWebClient, respond: AsyncRespond | None, click: Click, text: str
    ) -> None:
        await self._tell(client, respond, click.channel_id, click.user_id, text, replace=False)

    async def _tell(
        self,
        client: AsyncWebClient,
        respond: AsyncRespond | None,
        channel: str,
        user: str,
        text: str,
        *,
        replace: bool | None = None,
    ) -> None:
        """An ephemeral answer: via response_url, else chat.postEphemeral, else a DM."""
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
                log.warning("slack: response_url answered %s", resp.status_code)
            except _TELL_ERRORS as exc:
                log.warning("slack: response_url failed: %s", exc)
        if channel and user:
            try:
                await client.chat_postEphemeral(channel=channel, user=user, text=text)
                return
            except _TELL_ERRORS as exc:
                log.warning("slack: chat.postEphemeral in %s failed: %s", channel, exc)
        await self._dm(client, user, text)

    async def _dm(self, client: AsyncWebClient, user: str, text: str) -> None:
        if not user:
            return
        try:
            await client.chat_postMessage(channel=user, text=text)
        except _TELL_ERRORS as exc:
            log.warning("slack: could not tell %s anything: %s", user, exc)


async def drain_listeners(app: AsyncApp, timeout_s: float = 5.0) -> None:
    """Let ``app``'s listeners finish what they started after their ack (shutdown)."""
    listeners = _LISTENERS.get(app)
    if listeners is not None:
        await listeners.drain(timeout_s)


def _actor(user_id: str, is_moderator: bool = False) -> Actor:
    return Actor("slack", user_id, f"<@{user_id}>", is_moderator=is_moderator)


def _answer(result: DecideResult | None) -> str:
    if result is None:
        return FAILED
    if result.message:
        return result.message
    who = f" by {result.decided_by}" if result.decided_by else ""
    return f"Not applied ({result.status.value}){who}."
