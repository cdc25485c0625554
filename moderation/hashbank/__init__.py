"""The hash bank: known child-safety, non-consensual and trafficking media, kept as hashes only.

- models.py: BankEntry (SHA-256 and PDQ hex, category, media kind, where it came from, active or
  retired), ImportBatch (one imported list), BankState (the one row the indexes follow).
- hashing.py: SHA-256 of an upload's bytes and PDQ of its pixels (the `pdqhash` package).
- index.py: the in-memory PDQ index (multi-index hashing), one per process, kept in step with the
  database through BankState.
- selectors.match_media(): what an upload's hashes match; exact SHA-256 through the database's
  index, PDQ within HASHBANK_PDQ_MAX_DISTANCE through the in-memory index.
- services.py: adding the media a person confirmed, importing a list, retiring an entry, and the
  platform's check before publishing (POST /api/hashes/check in api.py); each audited.
- management commands: hashbank_import, hashbank_retire.
"""
