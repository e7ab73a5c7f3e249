"""MkDocs hook: the docstrings use reST roles (``:func:`name```); in the rendered Markdown the role prefix
would show as text before the code span, so it is dropped."""

import re

_ROLE = re.compile(r":(?:class|func|meth|attr|mod|data|exc):(?=<code>)")


def on_page_content(html, page, config, files):
    return _ROLE.sub("", html)
