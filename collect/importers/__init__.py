"""Importers: data that already lives in KoboToolbox or ODK Central, from export files or their APIs.

Every importer maps the records onto the fields of a form published in the store (`records.FormMapping`) and
stores them with `Store.import_records`: one transaction, keyed by instanceID, so a bad row imports nothing and
importing the same data twice adds nothing.
"""
