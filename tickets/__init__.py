"""The complaint domain: lifecycle, ownership, follow-ups, SLA clock, audit trail, search.

No Textual here (only in tickets/ui/). Every user intent is one function of
`tickets.service.ComplaintService`; the CLI and the tests call those, the TUI through
`tickets.user_desk.UserDesk` (the same functions with the signed-in user bound in).
"""
