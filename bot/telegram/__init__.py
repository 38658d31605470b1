"""The Telegram front end (python-telegram-bot v22): private chats, groups, inline mode.

``app`` wires one PTB Application to the update journal (``journal``), the per-chat scheduler
(``scheduler``), the send pacing (``ratelimit``) and the handlers (``handlers``, ``paging``).
"""
