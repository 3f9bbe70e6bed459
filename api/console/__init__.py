"""The web pages of ``serve`` (issue 16), server-rendered from the same services as the
JSON routes:

- ``/console`` (``pages.py``): the auditor console: sign in with an API key (a server-side
  session, ``sessions.py``; ``session_auth.py`` checks it and the CSRF token), find a
  subject, its timeline, status per purpose and as of a date, the bundle verified in the
  browser (``static/verify.js``), downloads;
- ``/console/operations`` (``operations.py``, from ``operations_summary.py``): the
  operator dashboard, admin only;
- ``/p/{token}`` (``preference_page.py``): the person's own preference page, reached by a
  signed, expiring link (``preference_tokens.py``), rate-limited (``rate_limit.py``).

``settings.py`` holds the settings, ``templating.py`` the Jinja2 environment."""
