"""Quality evaluations (issue 15): scorecards, a fair daily sample of answered calls, evaluations,
the agent's answer to them, coaching that is followed up, calibration and the quality report.

`cards` (pure: a card's TOML, scoring), `sampling` (pure: which calls to draw), `service` (the
intents on the database, roles enforced there), `report` (figures beside the call KPIs).
No Textual here: the screens call the service through the session link.
"""
