"""The maintenance fund (住宅专项维修资金, issue 14): per-unit sub-accounts held by the county fund
office, online deposit, balances, use applications decided by the owners concerned, disclosure.

rules.py         first deposit, cost split and interest (largest remainders), top-up threshold, states
models.py        rates, sub-accounts, the hash-chained ledger, interest runs, corrections, applications
errors.py        the fund branch of the error tree
ledger.py        append (per-compound hash chain, locked head), balances from entries, verify
subaccounts.py   rates, opening sub-accounts, developer deposits with voucher, what a unit owes
payments.py      the owner's online deposit through WeChat Pay (a payments purpose), landing once
interest.py      interest of a period allocated by balance
corrections.py   corrections with a reason and a second person's approval
applications.py  use applications: matter-5 motion over the sharing units, emergencies, payout
disclosure.py    the use and annual disclosures posted to the notice board
reports.py       compound and county totals, units in arrears
periodic.py      jobs: vote results move applications, daily top-up notices, yearly disclosures
transfers.py     transfer on sale: a roster naming new owners enters a transfer (hourly job)
vouchers.py      developer voucher photos (photos pipeline), seen by the fund office and committee
demo.py          demo data (seed_fund)
"""
