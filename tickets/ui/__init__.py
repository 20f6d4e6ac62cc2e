"""The complaint tracker's Textual screens: the only part of `tickets` that imports Textual.

The wallboard app holds a `ComplaintDesk` and opens the screens through it: "my
complaints" (saved views, search), "new complaint" (from the agent's current or last
call), a complaint's detail with the actions allowed to its user, the supervisor
overview, and the inbox of notifications (toast, bell, badge).
"""

from tickets.ui.desk import ComplaintDesk

__all__ = ["ComplaintDesk"]
