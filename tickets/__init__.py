"""The complaint domain: lifecycle, ownership, follow-ups, SLA clock, audit trail, search.

No Textual here (only in tickets/ui/). Every user intent is one function of
`tickets.service.ComplaintService`; the CLI, the TUI and the tests all call those.
"""
