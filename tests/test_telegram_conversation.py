"""Follow-ups, the three tiers and the unanswered log, end to end through the real bot."""

from __future__ import annotations

from benchmarks.botapi.harness import running_bot
from benchmarks.botapi.standin import BotAPIStandIn


def replies(api: BotAPIStandIn, chat_id: int, n: int = 1, timeout: float = 10):
    return api.wait_for_messages(n, chat_id=chat_id, timeout=timeout)


def spans(msg, kind: str) -> list[str]:
    return [
        msg["text"][e["offset"] : e["offset"] + e["length"]]
        for e in msg.get("entities", [])
        if e["type"] == kind
    ]


def test_a_private_follow_up_is_read_with_the_question_before_it(botapi, engine, tmp_path):
    with running_bot(botapi, engine, state_dir=tmp_path):
        chat = botapi.private_chat()
        botapi.send_text(chat, "What is LEMOA?")
        replies(botapi, chat["id"], 1)
        botapi.send_text(chat, "when was it signed?")
        follow = replies(botapi, chat["id"], 2)[1]
        assert follow["text"].startswith("Reading this with: LEMOA")
        assert "(LEMOA) in 2016" in follow["text"]
        assert "2016" in spans(follow, "underline")  # the answer span of a "when" question
        # a new, self-contained question right after is read on its own
        botapi.send_text(chat, "What is the Atmanirbhar Bharat initiative?")
        fresh = replies(botapi, chat["id"], 3)[2]
        assert "Reading this with" not in fresh["text"]
        assert "self-reliance and reducing dependence on imports" in fresh["text"]
        # /new forgets: the same follow-up now has nothing to be read with
        botapi.send_text(chat, "/new")
        botapi.send_text(chat, "when was it signed?")
        after = replies(botapi, chat["id"], 5)[4]
        assert "Reading this with" not in after["text"]


def test_tell_me_more_continues_after_the_last_quote_in_the_chat(botapi, engine, tmp_path):
    with running_bot(botapi, engine, state_dir=tmp_path):
        chat = botapi.private_chat()
        botapi.send_text(chat, "what did hegseth say about modi and trump")
        (first,) = replies(botapi, chat["id"])
        assert "solid foundation for our relationship" in first["text"]
        botapi.send_text(chat, "tell me more")
        more = replies(botapi, chat["id"], 2)[1]
        assert more["text"].startswith("Continuing after the last quote")
        assert "long and expanding history of collaboration" in more["text"]
        assert "solid foundation" not in more["text"]


def test_thanks_between_a_question_and_its_follow_up_keeps_the_topic(botapi, engine, tmp_path):
    with running_bot(botapi, engine, state_dir=tmp_path):
        chat = botapi.private_chat()
        botapi.send_text(chat, "Who is Vikram Misri?")
        replies(botapi, chat["id"], 1)
        botapi.send_text(chat, "thanks!")
        thanks = replies(botapi, chat["id"], 2)[1]
        assert "Reading this with" not in thanks["text"]
        botapi.send_text(chat, "where?")  # a question word alone asks about the topic
        where = replies(botapi, chat["id"], 3)[2]
        assert where["text"].startswith("Reading this with: Vikram Misri")
        assert "Pentagon" in spans(where, "underline")


def test_a_group_follow_up_is_a_reply_to_the_bots_answer(botapi, engine, tmp_path):
    with running_bot(botapi, engine, state_dir=tmp_path):
        group = botapi.group_chat()
        botapi.send_text(group, "/ask Who is Marco Rubio?")
        (first,) = replies(botapi, group["id"])
        assert "Marco Rubio" in first["text"]
        botapi.send_text(group, "which meeting was he at?", reply_to=first)
        follow = replies(botapi, group["id"], 2)[1]
        assert "Reading this with:" in follow["text"] and "Rubio" in follow["text"]
        assert "quad ministerial meeting" in follow["text"]
        # the same words asked afresh with /ask borrow nothing
        botapi.send_text(group, "/ask which meeting was he at?")
        alone = replies(botapi, group["id"], 3)[2]
        assert "Reading this with" not in alone["text"]


def test_near_misses_are_labelled_and_chit_chat_gets_no_quote(botapi, engine, tmp_path):
    with running_bot(botapi, engine, state_dir=tmp_path):
        chat = botapi.private_chat()
        botapi.send_text(chat, "How much did India pay for the MQ-9B drones?")
        (near,) = replies(botapi, chat["id"])
        assert near["text"].startswith("The articles don't say exactly. Closest passages:")
        assert "MQ 9Bs" in near["text"]
        botapi.send_text(chat, "thanks!!")
        (chat_reply,) = replies(botapi, chat["id"], 2)[1:]
        assert "blockquote" not in {e["type"] for e in chat_reply.get("entities", [])}
        assert "only answer questions about the articles" in chat_reply["text"]


def test_admins_see_what_users_could_not_find(botapi, engine, tmp_path):
    admin = botapi.make_user(4004, "Ada")
    with running_bot(botapi, engine, state_dir=tmp_path, admin_user_ids=frozenset({4004})):
        chat = botapi.private_chat()
        for q in ("What is the capital of France?", "what is the capital of france?", "hi"):
            botapi.send_text(chat, q)
        replies(botapi, chat["id"], 3)
        admin_chat = botapi.private_chat(4004, "Ada")
        botapi.send_text(admin_chat, "/unanswered", from_user=admin)
        (listing,) = replies(botapi, admin_chat["id"])
        assert "2× what is the capital of france?" in listing["text"].lower()
        assert "hi" not in listing["text"].split("\n")[1:]  # chit-chat is not a question
