"""The county's supervision of property service: grid patrols, the county dashboards that follow the
plan's targets, and the Open311 GeoReport v2 view of complaints for city platforms and hotlines."""
