"""Reading a page by its meaning (elements, attributes, text), not its serialisation, with Django's own
HTML parser (django.test.html, what assertHTMLEqual and assertContains(html=True) use): quotes,
entities, attribute order and whitespace may change without breaking a test."""

from __future__ import annotations

from django.test.html import Element, parse_html


def elements(html: str | Element, tag: str | None = None, **attrs: str | bool) -> list[Element]:
    """The elements under `html` named `tag` (any, when None) whose attributes include `attrs`:
    `class_="badge"` is one of the element's classes, `data_status="pending"` the attribute
    data-status, `True` an attribute present with any value."""
    root = parse_html(html) if isinstance(html, str) else html
    wanted = {("class" if name == "class_" else name.replace("_", "-")): value for name, value in attrs.items()}
    found: list[Element] = []

    def matches(element: Element) -> bool:
        if tag is not None and element.name != tag:
            return False
        present = dict(element.attributes)
        for name, value in wanted.items():
            if name not in present:
                return False
            if value is True:
                continue
            if name == "class":
                if value not in (present[name] or "").split():
                    return False
            elif present[name] != value:
                return False
        return True

    def walk(element: Element) -> None:
        for child in element.children:
            if isinstance(child, Element):
                if matches(child):
                    found.append(child)
                walk(child)

    if isinstance(root, Element) and root.name and matches(root):
        found.append(root)
    walk(root)
    return found


def one(html: str | Element, tag: str | None = None, **attrs: str | bool) -> Element:
    """The only element that matches; fails the test when there are none or several."""
    found = elements(html, tag, **attrs)
    assert len(found) == 1, f"{len(found)} <{tag or '*'} {attrs}> elements, not one"
    return found[0]


def attr(element: Element, name: str) -> str | None:
    return dict(element.attributes).get(name)


def text(html: str | Element) -> str:
    """The text of an element and everything in it, entities decoded. As the parser leaves it: runs
    of spaces collapsed, and the spaces at the edges of each piece of text dropped (compare such
    text with assertInHTML instead)."""
    root = parse_html(html) if isinstance(html, str) else html
    if isinstance(root, str):
        return root
    return "".join(child if isinstance(child, str) else text(child) for child in root.children)
