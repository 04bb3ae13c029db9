"""The DMHC open-data source: the CSV reader (reader), its mapping to triples (mapping) and
its ingest into the store (ingest)."""
