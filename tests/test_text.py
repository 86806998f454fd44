"""analysis.text: a user string shown in Markdown, HTML or a matplotlib label is always literal."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from nbconvert.filters.markdown_mistune import markdown2html_mistune  # noqa: E402

from analysis import text  # noqa: E402

PAYLOADS = ["<script>alert('x')</script>", "<img src=x onerror=alert(1)>", "[a](javascript:alert(1))",
            r"$\badcmd{$", "$x$", "**bold** _em_ `code`", "# heading", "| a | b |", "a\n\n<script>b</script>",
            "&lt;script&gt;", "\\<script>", "<<script>script>", "\x1b[31mred", "line\u2028sep"]
# Text made of the characters that mean something to Markdown, HTML or mathtext, plus anything.
hostile_text = st.lists(st.sampled_from(list("<>&\"'`*_[]()#|~$\\!{}/=: \n\t\r") + PAYLOADS) | st.text(max_size=8),
                        max_size=12).map("".join)


def _rendered(markdown_source: str) -> str:
    """What nbconvert's HTML export makes of a Markdown output (the same filter as the lab template)."""
    return markdown2html_mistune(markdown_source)


@settings(max_examples=300)
@given(hostile_text)
def test_markdown_never_makes_a_tag_a_link_or_math(value):
    rendered = _rendered(f"**Data**: {text.markdown(value)}.")
    assert rendered.count("<") == rendered.count("<strong>") + rendered.count("</strong>") + rendered.count("<p>") \
        + rendered.count("</p>"), rendered
    assert "$" not in rendered.replace("\\$", "") or "$" not in value.replace("$", "")  # every $ escaped
    assert "\n" not in text.markdown(value)


@pytest.mark.parametrize("value", PAYLOADS)
def test_markdown_keeps_the_text_readable(value):
    rendered = _rendered(text.markdown(value))
    assert "<script" not in rendered and "<img" not in rendered and "href=" not in rendered


@settings(max_examples=300)
@given(hostile_text)
def test_html_escapes_every_tag_character(value):
    escaped = text.html(value)
    assert not set("<>\"'") & set(escaped) and "\n" not in escaped


@pytest.mark.filterwarnings("ignore:Glyph")  # control characters have no glyph: drawn as boxes
@settings(max_examples=40)
@given(hostile_text)
def test_mathtext_labels_always_draw(value):
    fig, ax = plt.subplots()
    ax.set_title(text.mathtext(value))
    ax.legend(handles=ax.plot([0, 1], label=text.mathtext(value)))
    fig.canvas.draw()  # mathtext parses here: a raw "$\badcmd{$" raises ValueError
    plt.close(fig)


@pytest.mark.filterwarnings("ignore:Glyph")
@settings(max_examples=20)
@given(hostile_text)
def test_literal_figure_text_draws_raw_user_strings(value):
    with text.literal_figure_text():
        fig, ax = plt.subplots()
        ax.set_title(value)
    fig.canvas.draw()
    plt.close(fig)


@settings(max_examples=300)
@given(st.text(max_size=400))
def test_shown_is_one_line_and_capped(value):
    shown = text.shown(value)
    assert shown.isprintable() and len(shown) <= text.SHOWN_MAX_CHARS + 40
    assert text.inline(value).isprintable()
