"""A basic accessibility check of rendered HTML, for any page's test to call.

It checks what a screen-reader or keyboard user notices first and what is easy to break:
the page language, exactly one h1, a label for every form control, alt text on images, and ids
that are unique (labels and aria-describedby point at them).
"""

from html.parser import HTMLParser

_UNLABELLED_INPUT_TYPES = {"hidden", "submit", "button", "reset", "image"}


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.lang = None
        self.h1_count = 0
        self.controls = []  # (tag, attrs, inside_label)
        self.label_for = set()
        self.ids = []
        self.images = []
        self._label_depth = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.append(attrs["id"])
        if tag == "html":
            self.lang = attrs.get("lang")
        elif tag == "h1":
            self.h1_count += 1
        elif tag == "label":
            self._label_depth += 1
            if attrs.get("for"):
                self.label_for.add(attrs["for"])
        elif tag in ("input", "select", "textarea"):
            if tag != "input" or attrs.get("type", "text") not in _UNLABELLED_INPUT_TYPES:
                self.controls.append((tag, attrs, self._label_depth > 0))
        elif tag == "img":
            self.images.append(attrs)

    def handle_endtag(self, tag):
        if tag == "label":
            self._label_depth -= 1


def accessibility_problems(html: str) -> list[str]:
    page = _Page()
    page.feed(html)
    problems = []
    if not page.lang:
        problems.append("<html> has no lang attribute")
    if page.h1_count != 1:
        problems.append(f"{page.h1_count} <h1> elements, not exactly one")
    for tag, attrs, inside_label in page.controls:
        labelled = (
            inside_label
            or attrs.get("id") in page.label_for
            or attrs.get("aria-label")
            or attrs.get("aria-labelledby")
        )
        if not labelled:
            problems.append(f"<{tag} name={attrs.get('name')!r}> has no label")
    for attrs in page.images:
        if "alt" not in attrs:
            problems.append(f"<img src={attrs.get('src')!r}> has no alt text")
    duplicates = {i for i in page.ids if page.ids.count(i) > 1}
    if duplicates:
        problems.append(f"duplicate ids: {sorted(duplicates)}")
    return problems


def assert_accessible(html: str) -> None:
    problems = accessibility_problems(html)
    assert not problems, "; ".join(problems)
