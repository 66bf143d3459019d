"""experts: the expert directory, calling an expert into a live session, scoped access
and the time ledger.

The app picks up ``experts.http.add_routes`` (routes and room events) and
``experts.tables`` (one Alembic branch, ``experts_0001``); everything else is reached
through the node's ``Switchboard`` (``experts.runtime.switchboard(services)``).
"""

from experts.call import TERMINAL, TRANSITIONS, CallState
from experts.config import ExpertConfig
from experts.errors import AlreadyTaken, CallClosed, ExpertError
from experts.grant import JoinGrant
from experts.notifier import LogNotifier, Notification, Notifier, WebhookNotifier
from experts.switchboard import Switchboard

__all__ = [
    "TERMINAL",
    "TRANSITIONS",
    "AlreadyTaken",
    "CallClosed",
    "CallState",
    "ExpertConfig",
    "ExpertError",
    "JoinGrant",
    "LogNotifier",
    "Notification",
    "Notifier",
    "Switchboard",
    "WebhookNotifier",
]
