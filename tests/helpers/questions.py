"""Questions the bot tests send: answerable ones, one the articles don't answer, one near miss."""

QUESTIONS = [
    "What is LEMOA?",
    "What is BECA?",
    "What is QFMM?",
    "Who is Vikram Misri?",
    "When was INDUS-X launched?",
    "Who greeted Jaishankar with a Navy band?",
    "How do I cook pasta carbonara?",
    "Which Chinook model does India use?",
]
