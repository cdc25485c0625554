"""The red team's attacks (issue 14), replayed, each with the outcome it must have now.

Run on SQLite and on PostgreSQL; on PostgreSQL the database attacks run as the app's runtime role,
created on the test database with `manage.py db_roles`'s own SQL (conftest.runtime_role). Each test
says what the attack did before the change it guards.
"""
