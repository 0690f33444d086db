"""The SQL for Slack installations and OAuth states, in both dialects (``?`` / ``%s``).

A row is locked for a token rotation by the transaction itself on SQLite (``BEGIN IMMEDIATE``
holds the database's write lock) and by ``SELECT ... FOR UPDATE`` on PostgreSQL.
"""

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from bot.models import Installation

INSTALL_COLS = (
    "enterprise_id, team_id, bot_token, bot_id, bot_user_id, scopes, refresh_token, "
    "expires_at, app_id, team_name, installer_id, is_enterprise_install, installed_at"
)
_UPDATES = ", ".join(f"{c} = EXCLUDED.{c}" for c in INSTALL_COLS.replace(" ", "").split(",")[2:])


def select_install(mark: str, *, lock: bool = False) -> str:
    """One installation by its key; ``lock`` adds ``FOR UPDATE`` (PostgreSQL only)."""
    sql = (
        f"SELECT {INSTALL_COLS} FROM slack_installations "  # noqa: S608
        f"WHERE enterprise_id = {mark} AND team_id = {mark}"
    )
    return sql + " FOR UPDATE" if lock else sql


def upsert_install(mark: str) -> str:
    """Insert an installation or replace every field of the one with its key."""
    values = ", ".join([mark] * len(INSTALL_COLS.split(",")))
    return (
        f"INSERT INTO slack_installations ({INSTALL_COLS}) VALUES ({values}) "  # noqa: S608
        f"ON CONFLICT (enterprise_id, team_id) DO UPDATE SET {_UPDATES}"
    )


def install_params(inst: Installation) -> tuple[Any, ...]:
    """The values for :func:`upsert_install`, in column order."""
    return (
        inst.enterprise_id,
        inst.team_id,
        inst.bot_token,
        inst.bot_id,
        inst.bot_user_id,
        inst.scopes,
        inst.refresh_token,
        inst.expires_at,
        inst.app_id,
        inst.team_name,
        inst.installer_id,
        int(inst.is_enterprise_install),
        inst.installed_at,
    )


def install_from(row: Sequence[Any]) -> Installation:
    """An :class:`Installation` from a row of :data:`INSTALL_COLS`."""
    return Installation(
        enterprise_id=str(row[0]),
        team_id=str(row[1]),
        bot_token=str(row[2]),
        bot_id=str(row[3]),
        bot_user_id=str(row[4]),
        scopes=str(row[5]),
        refresh_token=str(row[6]),
        expires_at=None if row[7] is None else float(row[7]),
        app_id=str(row[8]),
        team_name=str(row[9]),
        installer_id=str(row[10]),
        is_enterprise_install=bool(row[11]),
        installed_at=float(row[12]),
    )


class InstallQueries:
    """The ``Tx`` methods for installations and OAuth states, over a dialect's helpers.

    Mixed into ``SqliteTx`` (``MARK = "?"``) and ``PgTx`` (``MARK = "%s"``), each of which
    provides ``_one`` and ``_changed``.
    """

    MARK = "?"
    LOCKS_ROWS = False  # PostgreSQL: True (SQLite's BEGIN IMMEDIATE already excludes writers)

    if TYPE_CHECKING:  # provided by the dialect's Tx, which comes first in the MRO

        async def _one(self, sql: str, params: Sequence[Any]) -> Any: ...

        async def _changed(self, sql: str, params: Sequence[Any]) -> int: ...

    async def get_installation(
        self, enterprise_id: str, team_id: str, *, lock: bool = False
    ) -> Installation | None:
        sql = select_install(self.MARK, lock=lock and self.LOCKS_ROWS)
        row = await self._one(sql, (enterprise_id, team_id))
        return None if row is None else install_from(row)

    async def save_installation(self, installation: Installation) -> None:
        await self._changed(upsert_install(self.MARK), install_params(installation))

    async def delete_installation(self, enterprise_id: str, team_id: str) -> bool:
        m = self.MARK
        sql = f"DELETE FROM slack_installations WHERE enterprise_id = {m} AND team_id = {m}"  # noqa: S608
        return await self._changed(sql, (enterprise_id, team_id)) == 1

    async def add_oauth_state(self, state: str, expires_at: float) -> None:
        m = self.MARK
        sql = f"INSERT INTO oauth_states (state, expires_at) VALUES ({m}, {m})"  # noqa: S608
        await self._changed(sql, (state, expires_at))

    async def take_oauth_state(self, state: str, now: float) -> bool:
        m = self.MARK
        # the DELETE is the single use: of two callbacks with one state, one deletes the row
        used = await self._changed(
            f"DELETE FROM oauth_states WHERE state = {m} AND expires_at > {m}",  # noqa: S608
            (state, now),
        )
        await self._changed(f"DELETE FROM oauth_states WHERE expires_at <= {m}", (now,))  # noqa: S608
        return used == 1
