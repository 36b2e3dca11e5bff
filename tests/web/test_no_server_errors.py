"""No input, however odd, makes the return pages fail with a 500: each gets a clear 4xx or a save."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.testclient import TestClient

from tests.personas import World, signed_in

ITEM_IDS = ["s175.1.1", "s175.2.5", "s175.2.6", "s175.14.4", "s175.99.1", "nonsense", "s175.1.1.1"]
FIELDS = [
    "value",
    "value-day",
    "value-month",
    "value-year",
    "narrative",
    "evidence",
    "na-reason",
    "version",
]
text = st.one_of(
    st.text(max_size=50),
    st.sampled_from(
        ["", "na", "3", "-1", "1e309", "NaN", "31", "2", "99999999999999999999", "\x00", "<script>"]
    ),
    st.text(min_size=5001, max_size=5100, alphabet="ab"),
)


@st.composite
def forms(draw):  # type: ignore[no-untyped-def]
    item = draw(st.sampled_from(ITEM_IDS))
    prefix = "item-" + item.replace(".", "-")
    data = {
        f"{prefix}-{f}": draw(text) for f in draw(st.lists(st.sampled_from(FIELDS), unique=True))
    }
    return item, data


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(case=forms())
def test_autosave_and_section_posts_never_fail_with_a_500(
    app: Starlette, clean_db: Engine, world: World, case: tuple[str, dict]
) -> None:
    item, data = case
    return_id = world.returns[world.org_a]
    with TestClient(app, follow_redirects=False, raise_server_exceptions=False) as client:
        token = signed_in(client, clean_db, world.people["respondent_a"])
        autosave = client.post(
            f"/returns/{return_id}/items/{item}", data={"csrf_token": token, **data}
        )
        assert autosave.status_code in {200, 400, 404}, autosave.text[:500]
        section = item.rsplit(".", 1)[0]
        page = client.post(
            f"/returns/{return_id}/sections/{section}", data={"csrf_token": token, **data}
        )
        assert page.status_code in {200, 303, 400, 404}, page.text[:500]
