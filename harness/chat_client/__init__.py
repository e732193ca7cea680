"""The one HTTP client for OpenAI-compatible chat-completions endpoints (the ``openai`` model adapter and
the judge): httpx on asyncio, a total deadline per attempt, a reply-size cap, retries with backoff and
``Retry-After``, Ctrl-C that cancels every request at once, and server text redacted before it is cut.

:mod:`.backoff` decides when to retry and how long to wait, :mod:`.transport` sends one bounded POST
(with its retries) on a :class:`~.transport.Session`, and :mod:`.completions` knows the chat-completions
wire format (URL, headers, error text, reply text and usage).
"""
