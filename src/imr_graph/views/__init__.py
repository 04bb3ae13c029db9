"""Views of the graph: exports (export), the offline HTML viewer (viewer), the report
(report), and the local SPARQL server (server) with its HTTP guard (httpguard)."""
