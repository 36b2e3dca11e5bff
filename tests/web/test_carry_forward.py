"""Starting a 2025.1 school return from the 2022.1 submission, by the lineage map."""

from __future__ import annotations

import re

from sqlalchemy import Engine
from sqlmodel import select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from audit_portal.config import PROJECT_ROOT
from audit_portal.db import session_scope
from audit_portal.models import Answer, Return
from audit_portal.questionnaires import load_catalogue
from tests.builders import all_green, last_years_submission, section_items
from tests.personas import World, signed_in

OLD = load_catalogue(PROJECT_ROOT / "questionnaires").get("section-175-schools", "2022.1")


def test_carry_forward_follows_the_lineage(app: Starlette, clean_db: Engine, world: World) -> None:
    last_years_submission(clean_db, world)
    return_id = world.returns[world.org_a]
    with TestClient(app, follow_redirects=False) as client:
        token = signed_in(client, clean_db, world.people["respondent_a"])
        overview = client.get(f"/returns/{return_id}").text
        assert "You submitted a return for Schools audit 2023" in overview
        done = client.post(f"/returns/{return_id}/carry-forward", data={"csrf_token": token})
        assert (
            "answers were copied from your last return" in client.get(done.headers["location"]).text
        )

        with session_scope(clean_db, write=False) as db:
            answers = {
                a.item_id: a
                for a in db.exec(select(Answer).where(Answer.return_id == return_id)).all()
            }
            assert db.get(Return, return_id).carried_from_id is not None
        same, reworded, split = answers["s175.2.1"], answers["s175.10.1"], answers["s175.10.4"]
        assert (same.value, same.carried_forward, same.carry_note) == ({"v": 3}, True, "")
        assert same.narrative == "Last year about s175.2.1"
        assert "wording of this question has changed" in reworded.carry_note
        assert (
            split.narrative == "Last year about s175.10.2"
            and "broader question (s175.10.2)" in split.carry_note
        )
        assert "s175.1.6" not in answers, "a merged item is answered afresh"
        assert "s175.3.6" not in answers and "s175.11.5" not in answers, "new items start blank"
        assert "s175.14.4" not in answers, "items that do not apply are not copied"

        check = client.get(f"/returns/{return_id}/check").text
        assert re.search(
            r'#item-s175-2-1-item">Question 2\.\d+: Confirm or change last year&#39;s answer', check
        )
        assert re.search(r'#item-s175-1-6-item">Question 1\.\d+: Answer this question', check)
        section = client.get(f"/returns/{return_id}/sections/s175.10").text
        assert (
            "Carried forward from your last return" in section
            and "wording of this question has changed" in section
        )

        data = all_green(section_items(clean_db, world, "s175.2"), token)
        data.update(
            {
                f"item-{i.id.replace('.', '-')}-version": "1"
                for i in section_items(clean_db, world, "s175.2")
            }
        )
        assert client.post(f"/returns/{return_id}/sections/s175.2", data=data).status_code == 303
        with session_scope(clean_db, write=False) as db:
            confirmed = db.exec(
                select(Answer).where(Answer.return_id == return_id, Answer.item_id == "s175.2.1")
            ).one()
            assert not confirmed.carried_forward and confirmed.version == 2

        again = client.post(f"/returns/{return_id}/carry-forward", data={"csrf_token": token})
        assert "already started this return" in client.get(again.headers["location"]).text


def test_without_an_earlier_submission_there_is_nothing_to_carry(
    app: Starlette, clean_db: Engine, world: World
) -> None:
    with TestClient(app, follow_redirects=False) as client:
        token = signed_in(client, clean_db, world.people["respondent_a"])
        assert (
            "Start from last year" not in client.get(f"/returns/{world.returns[world.org_a]}").text
        )
        refused = client.post(
            f"/returns/{world.returns[world.org_a]}/carry-forward", data={"csrf_token": token}
        )
        assert (
            "There is no earlier submitted return" in client.get(refused.headers["location"]).text
        )
