"""What a fetched page says: its text decoded, its HTML parsed (selectolax) into the text
blocks, the links and the microdata the checks read.

``decode`` finds the encoding (the Content-Type charset, ``<meta charset>``, utf-8, else
windows-1251, the usual encoding of older Russian sites). ``parse_page`` turns HTML into a
``Page``: its text blocks (WD-1, WD-4 match against them), its http(s) links with their
text and the text around them (WD-2 checks the links; ``checks.outdated_findings``
reads a document's remark such as "утратил силу" there), and its ``itemprop`` values (the
microdata of "Сведения об образовательной организации"). ``DOC_EXT`` tells a document link
from a page link. No network and no checklist here.
"""
from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from urllib.parse import urldefrag, urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser


_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
DOC_EXT = re.compile(r"\.(?:pdf|docx?|xlsx?|odt|ods|odp|rtf|pptx?|zip|rar|7z|jpe?g|png|tiff?)$", re.I)
_SKIP_SCHEMES = ("mailto:", "tel:", "javascript:", "data:", "sms:", "skype:", "viber:", "whatsapp:", "ftp:")

_TEXT_BLOCKS = "title, h1, h2, h3, h4, h5, h6, p, li, td, th, dd, dt, address, caption, figcaption, label"
_CONTEXT_BLOCKS = ("li", "p", "td", "tr", "dd", "dt")

_SPACE_BEFORE = re.compile(r" (?=[,.:;!?»)])")


def squash(text: str) -> str:
    """Whitespace collapsed, without the spaces that joining inline elements leaves before
    punctuation."""
    return _SPACE_BEFORE.sub("", " ".join(text.split()))


def trim(text: str | None, limit: int = 300) -> str | None:
    if text is None:
        return None
    text = squash(text)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def decode(body: bytes, content_type: str) -> tuple[str, str]:
    """Text and encoding: the Content-Type charset, else <meta charset>, else utf-8, else
    windows-1251 (the usual encoding of older Russian sites)."""
    candidates = []
    match = re.search(r"charset\s*=\s*[\"']?([\w.:-]+)", content_type or "", re.I)
    if match:
        candidates.append(match.group(1))
    if body.startswith(codecs.BOM_UTF8):
        return body[3:].decode("utf-8", "replace"), "utf-8"
    match = _META_CHARSET.search(body[:4096])
    if match:
        candidates.append(match.group(1).decode("ascii", "ignore"))
    for name in candidates:
        try:
            info = codecs.lookup(name)
            if not info._is_text_encoding:  # base64, hex, rot13, zlib...: not a charset
                continue
            return body.decode(info.name, "replace"), info.name
        except Exception:  # noqa: BLE001 - an unknown name or a codec that cannot decode bytes
            continue
    try:
        return body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as error:
        if error.start >= len(body) - 3:  # a multibyte character cut by the read cap
            return body.decode("utf-8", "replace"), "utf-8"
    return body.decode("cp1251", "replace"), "cp1251"


# --- pages ------------------------------------------------------------------------------

@dataclass
class Link:
    url: str
    text: str
    context: str
    page: str
    priority: int = 0   # crawl order (``checks._priority``), set off the event loop with the page's matches


@dataclass
class Page:
    url: str
    depth: int
    encoding: str
    texts: list[str]
    links: list[Link]
    itemprops: dict[str, str]
    hits: dict = field(default_factory=dict)  # item key -> (how, url, text): the page's first match


def _link_context(node, text: str) -> str:
    """The text around a link that may carry a remark about it ("— утратил силу"): its
    block when the block holds no other link, else the link and what follows it."""
    block = node.parent
    for _ in range(4):
        if block is None or block.tag in _CONTEXT_BLOCKS:
            break
        block = block.parent
    if block is not None and block.tag in _CONTEXT_BLOCKS and len(block.css("a")) == 1:
        return squash(block.text(separator=" "))[:600]
    parts = [text]
    sibling = node.next
    while sibling is not None and sum(map(len, parts)) < 300:
        if sibling.tag == "a" or (sibling.tag != "-text" and sibling.css_first("a") is not None):
            break
        parts.append(sibling.text(separator=" "))
        sibling = sibling.next
    return squash(" ".join(parts))[:600]


def parse_page(url: str, html: str, depth: int, encoding: str) -> Page:
    tree = LexborHTMLParser(html)
    base = url
    base_node = tree.css_first("base[href]")
    if base_node is not None:
        try:
            base = urljoin(url, (base_node.attributes.get("href") or "").strip())
            urlsplit(base)
        except ValueError:
            base = url
    texts, seen = [], set()
    for node in tree.css(_TEXT_BLOCKS):
        text = squash(node.text(separator=" "))[:1000]
        if text and text not in seen:
            seen.add(text)
            texts.append(text)
    links = []
    for node in tree.css("a[href]"):
        href = (node.attributes.get("href") or "").strip()
        if not href or href.startswith("#") or href.lower().startswith(_SKIP_SCHEMES):
            continue
        try:  # "http://[bad/" raises; one such link must not cost the page
            absolute = urldefrag(urljoin(base, href))[0]
            parts = urlsplit(absolute)
            parts.port  # noqa: B018 - raises ValueError on a bad port
        except ValueError:
            continue
        if parts.scheme not in ("http", "https"):
            continue
        text = (squash(node.text(separator=" ")) or squash(node.attributes.get("title") or ""))[:1000]
        if not text:
            image = node.css_first("img[alt]")
            text = squash(image.attributes.get("alt") or "") if image is not None else ""
        links.append(Link(absolute, text, _link_context(node, text), url))
    itemprops: dict[str, str] = {}
    for node in tree.css("[itemprop]"):
        for name in (node.attributes.get("itemprop") or "").split():
            if name not in itemprops:
                itemprops[name] = squash(node.text(separator=" "))[:300] or (
                    node.attributes.get("content") or node.attributes.get("href") or "")
    return Page(url, depth, encoding, texts, links, itemprops)
