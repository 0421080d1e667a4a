"""The ticket store (peewee): models, connection and schema migrations."""
