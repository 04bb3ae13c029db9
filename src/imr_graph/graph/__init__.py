"""The graph stage: records to triples (mapping), the store (local Oxigraph, or a remote
endpoint: remote, engines, virtuoso), canned queries, rates, validation (validate,
shacl_sparql, sparqlguard), and ingest with its parallel pipeline and worker processes."""
