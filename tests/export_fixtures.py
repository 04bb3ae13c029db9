"""Small hand-built RDF for the export tests (independent of mapping.py).

Two cases, three disputed items, shared services, outcomes as named individuals, a guideline
section, PROV-O provenance with the source path: the shapes the projection must handle.
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox

from imr_graph.graph.store import GraphStore
from imr_graph.records import Record

IMR = "https://example.org/imr/ontology#"
RES = "https://example.org/imr/id/"
SKOS = "http://www.w3.org/2004/02/skos/core#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
PROV = "http://www.w3.org/ns/prov#"
DCT = "http://purl.org/dc/terms/"
XSD = "http://www.w3.org/2001/XMLSchema#"
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")

TTL_PREFIXES = f"""
@prefix imr: <{IMR}> .
@base <{RES}> .
@prefix skos: <{SKOS}> .
@prefix rdfs: <{RDFS}> .
@prefix prov: <{PROV}> .
@prefix dcterms: <{DCT}> .
@prefix xsd: <{XSD}> .
"""

CASE_A = TTL_PREFIXES + """
<case/CM16-0000001> a imr:Case, prov:Entity ;
    dcterms:identifier "CM16-0000001" ;
    imr:decisionDate "2016-03-01"^^xsd:date ;
    imr:workerAge 58 ;
    prov:wasDerivedFrom <source/CM16-0000001> ;
    imr:item <case/CM16-0000001/item/1>, <case/CM16-0000001/item/2> .
<source/CM16-0000001> a prov:Entity ;
    prov:atLocation "/data/letters/CM16-0000001.pdf" ;
    imr:sha256 "abc123" .
<case/CM16-0000001/item/1> a imr:DisputedItem ;
    rdfs:label "Norco 10/325mg #90" ;
    imr:service <service/norco> ;
    imr:outcome imr:Upheld ;
    imr:reviewerCites <section/mtus-opioids> .
<case/CM16-0000001/item/2> a imr:DisputedItem ;
    rdfs:label "Physical therapy x 6" ;
    imr:service <service/physical-therapy> ;
    imr:outcome imr:Overturned ;
    imr:partial true .
<service/norco> a imr:Service ; skos:prefLabel "Norco"@en ; imr:category <category/medication> .
<service/physical-therapy> a imr:Service ; skos:prefLabel "Physical therapy"@en .
<category/medication> a imr:ServiceCategory ; skos:prefLabel "Medication" .
<section/mtus-opioids> a imr:GuidelineSection ; skos:prefLabel "Opioids, criteria for use" .
imr:Upheld a imr:Outcome ; rdfs:label "Upheld" .
imr:Overturned a imr:Outcome ; rdfs:label "Overturned" .
"""

CASE_B = TTL_PREFIXES + """
<case/CM17-0000002> a imr:Case ;
    dcterms:identifier "CM17-0000002" ;
    imr:workerAge 44 ;
    imr:item <case/CM17-0000002/item/1> .
<case/CM17-0000002/item/1> a imr:DisputedItem ;
    rdfs:label "Norco 5/325 #60" ;
    imr:service <service/norco> ;
    imr:outcome imr:Overturned ;
    imr:reviewerCites <section/mtus-opioids> .
<service/norco> a imr:Service ; skos:prefLabel "Norco"@en ; imr:category <category/medication> .
<category/medication> a imr:ServiceCategory ; skos:prefLabel "Medication" .
<section/mtus-opioids> a imr:GuidelineSection ; skos:prefLabel "Opioids, criteria for use" .
imr:Upheld a imr:Outcome ; rdfs:label "Upheld" .
imr:Overturned a imr:Outcome ; rdfs:label "Overturned" .
"""

CASE_A_GRAPH = RES + "graph/CM16-0000001"
CASE_B_GRAPH = RES + "graph/CM17-0000002"


def make_store() -> ox.Store:
    """An in-memory store with one named graph per case."""
    store = ox.Store()
    for graph, ttl in ((CASE_A_GRAPH, CASE_A), (CASE_B_GRAPH, CASE_B)):
        store.load(ttl.encode(), ox.RdfFormat.TURTLE, to_graph=ox.NamedNode(graph))
    return store


def examples_store(path: Path) -> GraphStore:
    """A writable on-disk store at ``path`` holding the two example letters (real mapping)."""
    from imr_graph.letters.parsing import parse_document
    from imr_graph.letters.reading import read_document

    from .conftest import example_letters

    gs = GraphStore(path)
    for letter in example_letters():
        doc = read_document(letter)
        gs.replace_case(parse_document(doc), doc.text)
    return gs


def example_records() -> list[Record]:
    """The parsed example records."""
    from imr_graph.letters.parsing import parse_file

    from .conftest import example_letters

    return [parse_file(p) for p in example_letters()]
