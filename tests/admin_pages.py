"""Reading admin pages as staff see them: the form a page would post (as a browser sends
it), and the pages of every object of the admins a test looks at."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

from django.contrib import admin
from django.db.models import Model
from django.test import Client
from django.urls import NoReverseMatch, reverse

from tests.staff_reads import give_purpose


class _FormReader(HTMLParser):
    """The successful controls of the page's forms: what a browser would submit."""

    def __init__(self) -> None:
        super().__init__()
        self.data: list[tuple[str, str]] = []
        self._select: str | None = None
        self._options: list[tuple[str, bool]] = []
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {key: value or "" for key, value in attrs}
        name = attributes.get("name")
        if tag == "input" and name:
            kind = attributes.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in attributes:
                    self.data.append((name, attributes.get("value", "on")))
            elif kind not in ("submit", "button", "file", "image", "reset"):
                self.data.append((name, attributes.get("value", "")))
        elif tag == "select" and name:
            self._select, self._options = name, []
        elif tag == "option" and self._select is not None:
            self._options.append((attributes.get("value", ""), "selected" in attributes))
        elif tag == "textarea" and name:
            self._textarea, self._text = name, []

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "select" and self._select is not None:
            chosen = [value for value, selected in self._options if selected]
            if chosen or self._options:
                self.data.append((self._select, (chosen or [self._options[0][0]])[0]))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            text = "".join(self._text)
            self.data.append((self._textarea, text[1:] if text.startswith("\n") else text))
            self._textarea = None


def form_data(html: str) -> dict[str, str]:
    """What the page's forms post, unchanged (one value per name: the last)."""
    reader = _FormReader()
    reader.feed(html)
    return dict(reader.data)


def admin_url(model: type[Model], view: str, *args: Any) -> str:
    opts = model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=args)


def admin_pages(client: Client, modules: tuple[str, ...]) -> Iterator[tuple[str, str]]:
    """(url, content) of the list and of each object's page of every model whose admin
    is defined in one of ``modules``; a citizen's record is opened with a reason."""
    for model, model_admin in admin.site._registry.items():
        if type(model_admin).__module__ not in modules:
            continue
        try:
            changelist = admin_url(model, "changelist")
        except NoReverseMatch:
            continue
        response = client.get(changelist)
        assert response.status_code == 200, changelist
        yield changelist, response.content.decode()
        for obj in model._default_manager.all()[:20]:
            url = admin_url(model, "change", obj.pk)
            response = client.get(url)
            if "staff_read_purpose" in response.content.decode():
                give_purpose(client, url)
                response = client.get(url)
            assert response.status_code == 200, url
            yield url, response.content.decode()


def raw_amounts(content: str, amounts: set[int]) -> list[str]:
    """Each of ``amounts`` that the page shows as a bare number of minor units ("280000",
    "+280000", "-280000"), with what surrounds it."""
    found = []
    for amount in amounts:
        for match in re.finditer(rf"(?<![\w.,])[+-]?{abs(amount)}(?!\w)", content):
            found.append(content[max(match.start() - 80, 0) : match.end() + 20])
    return found
