"""Which review cards a wait has on show, which one an update edits, and re-posting a card.

A wait's ``review.post`` outbox rows are the durable record of its cards: one per review
surface, plus a re-post for each copy found deleted at boot (its payload ``replaces`` the
deleted one) and any duplicate a re-send left. An update either names its copy (payload
``copy``: a post's effect id) or edits the newest live copy on its surface.
"""

from collections.abc import Sequence
from typing import Any, cast

from bot.models import EffectKind, Origin, OutboxEffect, Surface, platform_name, surface_of
from bot.review import Card, card_update
from bot.runtime._effects import effect_row
from bot.store import EffectStatus, OutboxRow, RunRow, WaitRow
from flows import Decision

REPOST_N = 2000  # a re-post sorts after its card's step (alerts use +1000), before later steps
_SHOWN = (EffectStatus.PENDING, EffectStatus.IN_FLIGHT, EffectStatus.DONE)


def live_posts(posts: Sequence[OutboxRow]) -> list[OutboxRow]:
    """The posts not replaced by a re-post, in order."""
    replaced = {p.payload.get("replaces") for p in posts}
    return [p for p in posts if p.effect_id not in replaced]


def copies_on(surface: Surface, origin: Origin, posts: Sequence[OutboxRow]) -> list[OutboxRow]:
    """The live copies of the card on ``surface`` that are (or will be) on show."""
    return [
        p
        for p in live_posts(posts)
        if p.status in _SHOWN and surface_of(p.kind, origin, p.payload) == surface
    ]


def card_of(update: OutboxRow, origin: Origin, posts: Sequence[OutboxRow]) -> OutboxRow | None:
    """The ``review.post`` whose card ``update`` edits.

    The one it names, else the newest live copy on its surface that was posted (else the
    newest live one at all, so a failed card fails its update too).
    """
    named = update.payload.get("copy")
    if named:
        return next((p for p in posts if p.effect_id == named), None)
    where = surface_of(update.kind, origin, update.payload)
    mine = [p for p in live_posts(posts) if surface_of(p.kind, origin, p.payload) == where]
    done = [p for p in mine if p.status == EffectStatus.DONE]
    candidates = done or mine
    return candidates[-1] if candidates else None


def review_updates(
    run: RunRow,
    wait: WaitRow,
    seq: int,
    decision: Decision,
    display: str,
    now: float,
    posts: Sequence[OutboxRow] = (),
    *,
    name: str = "",
) -> list[OutboxRow]:
    """A ``review.update`` for every card of ``wait``: each shows who decided, and where.

    One per review surface; a surface showing several copies (a re-post not delivered yet, a
    duplicate) gets one per copy, each naming its post, so no copy keeps live buttons.
    """
    rows: list[OutboxRow] = []
    origin = Origin.from_json(run.origin)
    for surface in origin.reviews:
        copies = copies_on(surface, origin, posts)
        for post in copies if len(copies) > 1 else [None]:
            n = len(rows)
            target = None if post is None else post.effect_id
            order = (seq, n)
            rows.append(
                update_row(run, wait, surface, decision, display, order, now, target, name=name)
            )
    return rows


def update_row(
    run: RunRow,
    wait: WaitRow,
    surface: Surface,
    decision: Decision,
    display: str,
    order: tuple[int, int],
    now: float,
    target: str | None = None,
    id_: str | None = None,
    *,
    name: str = "",
) -> OutboxRow:
    """The ``review.update`` of ``wait``'s card on ``surface`` (the copy ``target``, if given)."""
    origin = Origin.from_json(run.origin)
    platforms = {origin.platform, *(s.platform for s in origin.reviews)}
    decider = decision.actor.split(":", 1)[0]
    via = platform_name(decider) if len(platforms) > 1 and decider in platforms else ""
    payload = card_update(
        wait.token,
        cast(Card, wait.payload),
        decision.action,
        display,
        decision.data,
        via=via,
        surface=surface.to_json(),
        actor_name=name if via else "",  # only another platform's cards need it
    )
    if target is not None:
        payload["copy"] = target
    seq, n = order
    kind = EffectKind.REVIEW_UPDATE
    return effect_row(wait.run_id, seq, n, kind, payload, now, token=wait.token, id_=id_)


def repost_row(post: OutboxRow, now: float) -> OutboxRow:
    """A new ``review.post`` for the card of ``post`` (deleted): same token, new effect id."""
    generation = int(post.payload.get("repost", 0)) + 1
    base = post.effect_id.split(":repost", 1)[0]
    payload: dict[str, Any] = {**post.payload, "replaces": post.effect_id, "repost": generation}
    return effect_row(
        post.run_id,
        post.seq,
        post.n + REPOST_N,
        EffectKind.REVIEW_POST,
        payload,
        now,
        token=post.token,
        id_=f"{base}:repost{generation}",
    )


def posted_card(post: OutboxRow, origin: Origin) -> OutboxEffect:
    """The effect a sender's ``exists`` is asked about: the post, with its ref as ``card_ref``."""
    return OutboxEffect(
        effect_id=post.effect_id,
        run_id=post.run_id,
        kind=EffectKind(post.kind),
        origin=origin,
        payload=post.payload,
        dedupe_key=post.dedupe_key,
        attempt=max(1, post.attempts),
        card_ref=post.platform_ref,
        target=surface_of(post.kind, origin, post.payload),
        created_at=post.created_at,
    )
