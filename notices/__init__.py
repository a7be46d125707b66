"""The notice board (plan task 20) and the annual disclosures (tasks 8, 17, 18).

rules.py        categories, who posts what where (declared once), audiences, states
content.py      Markdown -> sanitized HTML, plain text for summaries and content security
service.py      draft, revise, publish through content security, post_system_notice for other features
lifecycle.py    pin, withdraw, a person's review, WeChat's pushed image verdicts, publisher views
attachments.py  images (photo pipeline + media_check_async) and private PDFs
board.py        the residents' board: order, cursor pages, unread marks, history, read receipts
cache.py        the board cache: per-compound version token in the shared cache backend
ledger.py       structured disclosures in integer fen: totals, refusal, tables, comparison
disclosures.py  disclosures as notices
demo.py         demo notices for the demo county
"""
