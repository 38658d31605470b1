"""A Telegram bot that answers questions about news articles by quoting them.

Flow: corpus files -> passages -> BM25 index -> search(question) -> hits -> render -> front end.
"""

__version__ = "0.1.0"
