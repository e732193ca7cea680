"""The leaderboard's tabs, one module each. A tab module exposes ``render(ctx: BoardContext) -> None``
(:class:`leaderboard.tabs.context.BoardContext`) and is listed once in ``leaderboard.app.TABS``; only the
tab on screen is rendered."""
