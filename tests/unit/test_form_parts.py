"""The rating radios built in Python: the choice shown, the marks the page's script reads, text
kept as text."""

from __future__ import annotations

import re

from audit_portal.questionnaires.model import NotApplicable, RatingScale, ScalePoint
from audit_portal.web.form_parts import rating_radios

SCALE = RatingScale(
    points=[
        ScalePoint(
            value=3, label="Effective", description="Works well", rag="green", less_effective=False
        ),
        ScalePoint(
            value=1,
            label="<b>Weak</b>",
            description='Needs <script>alert("x")</script> work',
            rag="red",
            less_effective=True,
        ),
    ],
    not_applicable=NotApplicable(label="Does not apply & never will"),
)


def inputs(html: str) -> list[str]:
    return re.findall(r"<input [^>]*>", html)


def test_each_point_is_a_radio_with_its_hint_and_only_the_answer_is_checked() -> None:
    html = str(rating_radios("item-s1-1", SCALE, 1))
    first, second, na = inputs(html)
    assert 'id="item-s1-1-value"' in first and 'value="3"' in first
    assert 'aria-describedby="item-s1-1-value-1-hint"' in first
    assert 'id="item-s1-1-value-2"' in second and 'value="1"' in second
    assert " checked" not in first and " checked" in second and " checked" not in na
    assert "data-less-effective" in second and "data-less-effective" not in first
    assert 'id="item-s1-1-value-2-hint">Needs &lt;script&gt;' in html
    assert 'for="item-s1-1-value-2">&lt;b&gt;Weak&lt;/b&gt;</label>' in html
    assert '<div class="govuk-radios__divider">or</div>' in html
    assert ">Does not apply &amp; never will</label>" in html
    assert "<script>" not in html and "<b>" not in html


def test_not_applicable_and_an_answer_given_as_text_are_checked() -> None:
    assert " checked" in inputs(str(rating_radios("f", SCALE, "na")))[2]
    assert " checked" in inputs(str(rating_radios("f", SCALE, "3")))[0]
    assert " checked" not in str(rating_radios("f", SCALE, None))


def test_disabled_radios_and_a_scale_without_not_applicable() -> None:
    shut = inputs(str(rating_radios("f", SCALE, None, disabled=True)))
    assert all(tag.endswith(" disabled>") for tag in shut)
    plain = RatingScale(points=SCALE.points)
    html = str(rating_radios("f", plain, 3))
    assert len(inputs(html)) == 2 and "divider" not in html and "disabled" not in html
