"""The Telegram front end (python-telegram-bot v22): private chats, groups, inline mode.

``app`` wires one PTB Application (without PTB's Updater) to: ``receive`` (the bot's own
``getUpdates`` loop and webhook server, journalling before confirming), ``journal`` (the SQLite
state store under STATE_DIR), ``scheduler`` (one lane per chat), ``ratelimit`` (per-user limits
and send pacing), ``reload`` (background rebuilds), and ``handlers`` with ``state`` and
``paging`` (the update handlers, their shared state, the buttons' callback data).
"""
