"""Both comment shapes (document and chat-event), wrapped or bare, normalise to one Comment type."""

from __future__ import annotations

import pytest

from streamer.platform import Comment, ResponseFormatError


@pytest.mark.parametrize("shape", ["document", "chat_event"])
@pytest.mark.parametrize("bare", [False, True])
def test_both_shapes_normalise(client, fake, agent, shape, bare):
    fake.comment_shape = shape
    fake.comments_bare_list = bare
    first = fake.add_comment(agent.user_db_id, "Great stream!", username="viewer1", user_id="W1")
    second = fake.add_comment(agent.user_db_id, "tip!", username="viewer2", user_id="W2", kind="tip")
    comments = client.comments(agent.user_db_id)
    assert all(isinstance(c, Comment) for c in comments)
    assert [(c.id, c.text, c.author_name, c.author_id) for c in comments] == [
        (first, "Great stream!", "viewer1", "W1"), (second, "tip!", "viewer2", "W2")]
    assert comments[0].timestamp is not None
    if shape == "chat_event":
        assert comments[1].kind == "tip"


def test_pagination_with_before_id(client, fake, agent):
    ids = [fake.add_comment(agent.user_db_id, f"m{i}") for i in range(5)]
    newest = client.comments(agent.user_db_id, limit=2)
    assert [c.id for c in newest] == ids[3:]
    older = client.comments(agent.user_db_id, limit=2, before_id=newest[0].id)
    assert [c.id for c in older] == ids[1:3]
    assert fake.requests_to("/agent/stream/comments")[-1].query["beforeId"] == [ids[3]]


def test_comment_without_id_is_reported_clearly():
    with pytest.raises(ResponseFormatError, match="'_id'"):
        Comment.from_json({"text": "no id"}, "GET /agent/stream/comments")


def test_unknown_fields_are_tolerated_and_kept():
    c = Comment.from_json({"chat_event_id": "e1", "sender_user_id": "u", "sender_username": "n", "text": "t",
                           "new_field": {"x": 1}}, "GET /chat/")
    assert c.id == "e1" and c.raw["new_field"] == {"x": 1}


def test_chat_history_uses_the_same_comment_type(client, fake, agent):
    fake.add_comment(agent.user_db_id, "hello from history", username="v")
    history = client.chat_history(agent.user_db_id)
    assert [(c.text, c.author_name) for c in history] == [("hello from history", "v")]
