"""The wallboard's Textual TUI: the only part of `wallboard` that imports Textual."""

from wallboard.ui.app import WallboardApp

__all__ = ["WallboardApp"]
