"""The login page: a plain server-rendered form (no Dash), Chinese first with an English switch.

It is served before any session exists, so it loads nothing but the local
Bootstrap and RingSight style sheets. Every value put into the page is
HTML-escaped.
"""

from __future__ import annotations

from urllib.parse import quote

from markupsafe import escape

from ringsight.ui.i18n import t

_PAGE = """<!DOCTYPE html>
<html lang="{html_lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="stylesheet" href="/assets/00-bootstrap-5.3.8.min.css">
<link rel="stylesheet" href="/assets/10-ringsight.css">
<link rel="stylesheet" href="/assets/12-ringsight-cases.css">
</head>
<body class="login-body">
<main class="login-card" id="login-card">
  <div class="login-lang">{switch}</div>
  <div class="login-brand"><span class="brand-mark">&#9672;</span> <span class="login-name">RingSight</span></div>
  <div class="login-sub">{subtitle}</div>
  {error}
  <form method="post" action="/login" id="login-form" autocomplete="on">
    <input type="hidden" name="next" value="{target}">
    <input type="hidden" name="lang" value="{lang}">
    <label class="form-label" for="login-username">{user_label}</label>
    <input class="form-control" id="login-username" name="username" value="{username}" required
           autocomplete="username" autofocus>
    <label class="form-label mt-3" for="login-password">{password_label}</label>
    <input class="form-control" id="login-password" name="password" type="password" required
           autocomplete="current-password">
    <button class="btn btn-primary w-100 mt-4" id="login-submit" type="submit">{submit}</button>
  </form>
  <div class="login-note">{note}</div>
</main>
</body>
</html>
"""


def login_page(lang: str, *, target: str = "/", username: str = "", error: str | None = None, minutes: int = 0) -> str:
    """The login page in ``lang``; ``error`` is an i18n key (refused, rate-limited, disabled)."""
    other = "en" if lang == "zh" else "zh"
    switch = (
        f'<a class="login-switch" id="login-switch" href="/login?lang={other}&amp;next={escape(quote(target))}">'
        f"{'English' if other == 'en' else '中文'}</a>"
    )
    error_html = (
        f'<div class="alert alert-danger login-error" id="login-error" role="alert">'
        f"{escape(t(error, lang, minutes=minutes))}</div>"
        if error
        else ""
    )
    return _PAGE.format(
        html_lang="zh-CN" if lang == "zh" else "en",
        title=escape(t("login.title", lang)),
        switch=switch,
        subtitle=escape(t("app.subtitle", lang)),
        error=error_html,
        target=escape(target),
        lang=escape(lang),
        user_label=escape(t("login.username", lang)),
        username=escape(username),
        password_label=escape(t("login.password", lang)),
        submit=escape(t("login.submit", lang)),
        note=escape(t("login.note", lang)),
    )
