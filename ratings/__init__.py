"""Star rating, inspections, company credit and the quarterly red and black lists (issue 17).

rules.py        the eight aspects, template scoring to stars, the credit scheme, the list rule
models.py       templates (versioned), inspections, scores, objections, credit records, lists
errors.py       the ratings branch of the error tree
templates.py    template versions
inspections.py  inspections: score, submit, object once, decide, finish (immutable afterwards)
credit.py       credit records from every source, the score that explains itself, at any date
lists.py        the quarterly red and black lists: draft, review, publish as a county notice
grades.py       current_grades(): star and credit grades for other domains (ratings_api.md)
"""
