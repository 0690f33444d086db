"""Wiring: the only package that knows every concrete class (store, LLM, flow, runtime, adapters).

``_core`` builds the platform-free core, ``_llm`` the configured model, ``_platforms`` the
single-surface commands, ``_serve`` the every-surface ``jokebot serve`` and ``_ops`` its health
server and the operations commands, ``_doctor`` ``jokebot doctor``, ``_signin`` the console's
sign-in settings; the CLI calls what this package exports and nothing else.
"""

from bot.app._core import Core, open_core, options_from
from bot.app._doctor import diagnose, doctor
from bot.app._llm import make_llm, serving_llm
from bot.app._ops import (
    backup_db,
    check_health,
    ops_server,
    pruning_duty,
    readiness,
    restore_db,
)
from bot.app._platforms import (
    init_db,
    migrate_store,
    print_invite_url,
    run_chat,
    run_discord,
    run_slack,
    sync_discord,
)
from bot.app._serve import SurfacePlan, describe, plan_surfaces, run_serve
from bot.app._signin import signin_config

__all__ = [
    "Core",
    "SurfacePlan",
    "backup_db",
    "check_health",
    "describe",
    "diagnose",
    "doctor",
    "init_db",
    "make_llm",
    "migrate_store",
    "open_core",
    "ops_server",
    "options_from",
    "plan_surfaces",
    "print_invite_url",
    "pruning_duty",
    "readiness",
    "restore_db",
    "run_chat",
    "run_discord",
    "run_serve",
    "run_slack",
    "serving_llm",
    "signin_config",
    "sync_discord",
]
