"""Property fees and payments: the one place money moves (issue 13).

rules.py        fee arithmetic (one rounding rule), the price band, pro rata by days, states
models.py       price bands, fee contracts, fee items, bills, orders, refunds, ledger, receipts
errors.py       the payments branch of the error tree
billing.py      billing runs, arrears, the committee's late-payment list
orders.py       orders for bills, payment results (notification or query), expiry, receipts
refunds.py      refunds and their notifications
ledger.py       the append-only, hash-chained ledger and the summaries computed from it
reconcile.py    the trade bill against the ledger: every difference listed, none fixed
setup.py        price bands, fee contracts, fee items (the company's and supervisor's set-up)
demo.py         a fee contract, posted items and a billing run for the demo county
"""
