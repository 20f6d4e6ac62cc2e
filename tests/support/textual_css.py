"""One parse of each Textual stylesheet per test process, not one per app.

Textual keeps its parsed CSS in the app's own `Stylesheet` (`_parse_rules` caches by the CSS,
where it was read from, its scope and priority), and a screen that brings CSS of its own
re-parses everything into a new `Stylesheet`. So each app a test starts, and each such screen
it opens, tokenises and parses every widget's DEFAULT_CSS again: 3-8 % of a Pilot test's CPU.
The CSS and the theme's variables are the same from app to app, so the parsed rules are too:
here they are kept for the process, keyed by everything the parse reads (Textual's own key
plus the variables). Textual already hands the same parsed rules to every parse of one
stylesheet; it does not change them once parsed. CSS that fails to parse raises as before and
is never kept.
"""

from __future__ import annotations

from typing import Any

from textual.css.model import RuleSet
from textual.css.stylesheet import Stylesheet
from textual.css.types import CSSLocation

_parsed: dict[tuple[Any, ...], list[RuleSet]] = {}
_parse_rules_of_one_stylesheet = Stylesheet._parse_rules


def _parse_rules_once(
    self: Stylesheet,
    css: str,
    read_from: CSSLocation,
    is_default_rules: bool = False,
    tie_breaker: int = 0,
    scope: str = "",
) -> list[RuleSet]:
    key = (css, read_from, is_default_rules, tie_breaker, scope, tuple(self._variables.items()))
    rules = _parsed.get(key)
    if rules is None:
        rules = _parse_rules_of_one_stylesheet(self, css, read_from, is_default_rules, tie_breaker, scope)
        _parsed[key] = rules
    return rules


def share_parsed_css() -> None:
    """From now on, every stylesheet of this process parses a given CSS under given variables once."""
    Stylesheet._parse_rules = _parse_rules_once  # type: ignore[method-assign]  # Textual has no hook for a shared cache
