"""The review queue (AppTest, demo round): filters, nothing ticked, bulk decisions, next/previous, the answers."""

from dashboard import data


def _texts(at) -> str:
    kinds = ("markdown", "caption", "info", "warning", "success", "error", "subheader")
    return " ".join(str(e.value) for kind in kinds for e in getattr(at, kind))


def _queue(at):
    return at.dataframe[0].value


def test_the_queue_lists_flagged_unreviewed_submissions_with_nothing_ticked(demo_data, app_as):
    at = app_as("coordinator", "review")
    assert not at.exception
    queue = _queue(at)
    checks = data.quality_checks()
    flagged = (checks["issues"] != "").sum()
    assert len(queue) == flagged and 0 < flagged < len(checks) / 3
    assert list(queue.columns) == ["flags", "volunteer", "neighbourhood", "day", "minutes", "state"]
    assert set(queue["state"]) == {"received"}
    assert at.radio[0].value is None  # no decision preselected
    assert "Apply to the ticked submissions (0)" in [b.label for b in at.button]


def test_filters_narrow_the_queue(demo_data, app_as):
    at = app_as("coordinator", "review")
    at.multiselect(key="review_flags").set_value(["speeder"]).run()
    speeders = _queue(at)
    assert set(speeders["flags"].str.contains("too fast")) == {True}
    volunteer = speeders["volunteer"].iloc[0]
    at.multiselect(key="review_who").set_value([volunteer]).run()
    assert set(_queue(at)["volunteer"]) == {volunteer}


def test_a_bulk_rejection_needs_a_comment_and_takes_the_submissions_out_of_the_estimates(demo_data, app_as):
    at = app_as("coordinator", "review")
    at.multiselect(key="review_flags").set_value(["speeder"]).run()
    chosen = set(data.submissions(include_rejected=True).loc[data.quality_checks()["speeder"], "instance_id"])
    at.toggle(key="review_all_shown").set_value(True)
    at.radio[0].set_value("rejected")
    next(b for b in at.button if b.label.startswith("Apply to the ticked")).click().run()
    assert "Write a comment" in _texts(at)
    assert data.store().review_history(next(iter(chosen))).empty
    at.toggle(key="review_all_shown").set_value(True)
    at.radio[0].set_value("rejected")
    at.text_input[0].input("interview too short to be real")
    next(b for b in at.button if b.label.startswith("Apply to the ticked")).click().run()
    assert not at.exception
    assert f"{len(chosen):,} submissions marked “Reject”." in _texts(at)
    assert "No submission matches these filters." in _texts(at)  # they left the queue of received ones at once
    history = data.store().review_history(next(iter(chosen)))
    assert history[["review_state", "comment", "reviewer"]].values.tolist() == [
        ["rejected", "interview too short to be real", "the_coordinator"]
    ]
    data.refresh()
    assert chosen.isdisjoint(data.submissions()["instance_id"])


def test_next_and_previous_walk_the_queue_showing_answers_with_the_forms_labels(demo_data, app_as):
    at = app_as("coordinator", "review", language="es")
    first = at.subheader[0].value
    assert any(m.value.startswith("- ") for m in at.markdown)  # why it was flagged
    answers = [d.value for d in at.dataframe[1:] if "question" in d.value.columns]
    questions = " ".join(" ".join(a["question"]) for a in answers)
    assert "Distrito donde se realiza la entrevista" in questions  # the form's Spanish label, not `district`
    assert any(a["answer"].isin(["Sí", "No"]).any() for a in answers)  # choice labels, not `yes`/`no`
    next(b for b in at.button if b.label == "Siguiente").click().run()
    assert at.subheader[0].value != first
    next(b for b in at.button if b.label == "Anterior").click().run()
    assert at.subheader[0].value == first


def test_submitted_text_is_shown_as_text_not_markdown(demo_data, app_as):
    """Issue 13: a planted image in a submitted value must not reach the page as Markdown (the browser would fetch
    it). A whole interview sent again under a volunteer name carrying the image: flagged as a duplicate (a visit
    that found nobody has no answers to duplicate)."""
    planted = "![x](https://attacker.invalid/pixel.png)"
    store = data.store()
    submissions = data.submissions()
    original = submissions.loc[submissions["disposition"] == "complete", "instance_id"].iloc[0]
    copy = "uuid:6f1c1a52-3a0e-4d8e-9a39-0000000000ee"
    store.receive(store.submission_xml(original).replace(original.encode(), copy.encode()), volunteer=planted)
    data.changed()
    data.refresh()
    at = app_as("coordinator", "review")
    at.multiselect(key="review_who").set_value([planted]).run()
    assert not at.exception
    assert len(_queue(at)) == 1
    shown = _texts(at)
    assert "attacker" in shown  # the name is shown, as text:
    assert "![x](" not in shown and "](https" not in shown
