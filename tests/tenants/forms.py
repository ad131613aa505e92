"""Reading a page's form as a browser submits it, and a page's visible text."""
from html.parser import HTMLParser

from werkzeug.datastructures import MultiDict


class _Form(HTMLParser):
    def __init__(self, selector):
        super().__init__(convert_charrefs=True)
        self.kind, self.value = selector  # ("id", "version-form") or ("class", "reg-confirm")
        self.depth = 0
        self.fields = []  # (name, value)
        self.select = None  # [name, first value, chosen value]
        self.option = None
        self.textarea = None

    def _matches(self, attrs):
        if self.kind == "id":
            return attrs.get("id") == self.value
        return self.value in (attrs.get("class") or "").split()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and self._matches(attrs):
            self.depth = 1
            return
        if not self.depth:
            return
        disabled = "disabled" in attrs
        if tag == "input" and not disabled and attrs.get("name"):
            kind = attrs.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    self.fields.append((attrs["name"], attrs.get("value", "on")))
            elif kind not in ("submit", "button"):
                self.fields.append((attrs["name"], attrs.get("value", "")))
        elif tag == "select" and not disabled and attrs.get("name"):
            self.select = [attrs["name"], None, None]
        elif tag == "option" and self.select is not None:
            value = attrs.get("value", "")
            if self.select[1] is None:
                self.select[1] = value
            if "selected" in attrs:
                self.select[2] = value
        elif tag == "textarea" and not disabled and attrs.get("name"):
            self.textarea = [attrs["name"], ""]

    def handle_data(self, data):
        if self.textarea is not None:
            self.textarea[1] += data

    def handle_endtag(self, tag):
        if not self.depth:
            return
        if tag == "form":
            self.depth = 0
        elif tag == "select" and self.select is not None:
            name, first, chosen = self.select
            self.fields.append((name, chosen if chosen is not None else (first or "")))
            self.select = None
        elif tag == "textarea" and self.textarea is not None:
            value = self.textarea[1]
            self.fields.append((self.textarea[0], value[1:] if value.startswith("\n") else value))
            self.textarea = None


def form_fields(html: str, *, form_id=None, form_class=None) -> MultiDict:
    """The fields a browser would send from the form (disabled ones left out; no button)."""
    parser = _Form(("id", form_id) if form_id else ("class", form_class))
    parser.feed(html)
    return MultiDict(parser.fields)


def replace(fields: MultiDict, changes: dict) -> MultiDict:
    """``fields`` with some values set (``{name: value}``) or removed (``{name: None}``)."""
    out = MultiDict(fields)
    for name, value in changes.items():
        out.poplist(name)
        if value is not None:
            out.add(name, value)
    return out


class _Text(HTMLParser):
    SKIP = {"script", "style", "textarea", "pre", "option", "title"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.skipping = 0
        self.parts = []

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self.skipping += 1

    def handle_endtag(self, tag):
        if tag in self.SKIP and self.skipping:
            self.skipping -= 1

    def handle_data(self, data):
        if not self.skipping and data.strip():
            self.parts.append(data.strip())


def visible_text(html: str) -> str:
    """The words a person reads on the page (not attributes, inputs' values or JSON)."""
    parser = _Text()
    parser.feed(html)
    return " ".join(parser.parts)
