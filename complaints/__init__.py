"""Complaints and reports with photos: dispatch, time limits, rating."""
