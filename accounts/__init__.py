"""People and places: users, roles, the registry (community → compound → building → unit), owners."""
