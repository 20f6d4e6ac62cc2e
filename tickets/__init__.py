"""The complaint domain: lifecycle, ownership, follow-ups, SLA clock, audit trail, search.

No Textual here (only in tickets/ui/). The intents people carry out are one table
(`tickets.intents`); each is one method of `tickets.service.ComplaintService` (the writes),
and the reads are `tickets.queries`. The CLI and the tests call those, the TUI through
`tickets.user_desk.UserDesk` (the same functions with the signed-in user bound in).
"""
