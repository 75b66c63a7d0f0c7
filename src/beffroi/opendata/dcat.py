"""The catalogue as DCAT-AP (2.x, with the DCAT-AP-FR usage of data.gouv.fr), for the
national portal to harvest: JSON-LD and Turtle, written by rdflib.

One ``dcat:Catalog``; per dataset a ``dcat:Dataset`` with its themes (the EU's data-theme
vocabulary), keywords, frequency, publisher, licence and provenance; per export format a
``dcat:Distribution`` with its download URL, format and media type.
"""

from __future__ import annotations

from collections.abc import Mapping

from rdflib import RDF, RDFS, XSD, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF

from beffroi.opendata.exports import MEDIA_TYPES, ExportFormat
from beffroi.opendata.service import Snapshot
from beffroi.opendata.spec import Dataset

EU_THEME = Namespace("http://publications.europa.eu/resource/authority/data-theme/")
EU_FREQUENCY = Namespace("http://publications.europa.eu/resource/authority/frequency/")
EU_FILE_TYPE = Namespace("http://publications.europa.eu/resource/authority/file-type/")
EU_LANGUAGE = Namespace("http://publications.europa.eu/resource/authority/language/")
IANA = "https://www.iana.org/assignments/media-types/"
# The portal's themes (data.gouv.fr's French labels) in the EU vocabulary.
THEMES = {
    "Énergie": "ENER",
    "Environnement": "ENVI",
    "Transports, déplacements": "TRAN",
    "Santé": "HEAL",
    "Gouvernement et secteur public": "GOVE",
}
FILE_TYPES = {
    ExportFormat.CSV: "CSV",
    ExportFormat.JSON: "JSON",
    ExportFormat.GEOJSON: "GEOJSON",
    ExportFormat.PARQUET: "PARQUET",
}
JSONLD_CONTEXT = {
    "dcat": str(DCAT),
    "dct": str(DCTERMS),
    "foaf": str(FOAF),
    "rdfs": str(RDFS),
    "xsd": str(XSD),
}


def catalog_graph(
    datasets: tuple[Dataset, ...], snapshots: Mapping[str, Snapshot | None], base_url: str
) -> Graph:
    """The DCAT-AP graph of ``datasets`` served at ``base_url`` (no trailing slash)."""
    api = f"{base_url}/api/explore/v2.1"
    g = Graph()
    g.bind("dcat", DCAT)
    g.bind("dct", DCTERMS)
    g.bind("foaf", FOAF)
    catalog = URIRef(f"{api}/catalog/datasets")
    publisher = URIRef(f"{base_url}/#publisher")
    g.add((publisher, RDF.type, FOAF.Agent))
    g.add((publisher, FOAF.name, Literal(datasets[0].publisher if datasets else "Beffroi")))
    g.add((catalog, RDF.type, DCAT.Catalog))
    g.add((catalog, DCTERMS.title, Literal("Données ouvertes de Beffroi", lang="fr")))
    g.add(
        (
            catalog,
            DCTERMS.description,
            Literal(
                "Open data of the metropolis's connected public space, published by its control "
                "room without login.",
                lang="en",
            ),
        )
    )
    g.add((catalog, DCTERMS.publisher, publisher))
    g.add((catalog, DCTERMS.language, EU_LANGUAGE.FRA))
    g.add((catalog, FOAF.homepage, URIRef(f"{base_url}/")))
    for ds in datasets:
        node = URIRef(f"{api}/catalog/datasets/{ds.id}")
        g.add((catalog, DCAT.dataset, node))
        _dataset(g, ds, node, snapshots.get(ds.id), api, publisher)
    return g


def _dataset(
    g: Graph, ds: Dataset, node: URIRef, snapshot: Snapshot | None, api: str, publisher: URIRef
) -> None:
    g.add((node, RDF.type, DCAT.Dataset))
    g.add((node, DCTERMS.identifier, Literal(ds.id)))
    g.add((node, DCTERMS.title, Literal(ds.title, lang="fr")))
    g.add((node, DCTERMS.description, Literal(ds.description, lang="en")))
    g.add((node, DCTERMS.publisher, publisher))
    g.add((node, DCTERMS.accrualPeriodicity, EU_FREQUENCY[ds.frequency]))
    g.add((node, DCAT.landingPage, URIRef(f"{api}/catalog/datasets/{ds.id}")))
    for theme in ds.themes:
        if theme in THEMES:
            g.add((node, DCAT.theme, EU_THEME[THEMES[theme]]))
    for word in ds.keywords:
        g.add((node, DCAT.keyword, Literal(word, lang="fr")))
    # Named, not blank: the same catalogue serialises to the same bytes (ETags, caches).
    provenance = URIRef(f"{node}#provenance")
    g.add((provenance, RDF.type, DCTERMS.ProvenanceStatement))
    g.add((provenance, RDFS.label, Literal(ds.provenance, lang="en")))
    g.add((node, DCTERMS.provenance, provenance))
    licence = URIRef(ds.licence.url)
    g.add((licence, RDF.type, DCTERMS.LicenseDocument))
    g.add((licence, RDFS.label, Literal(ds.licence.title)))
    if snapshot is not None:
        g.add((node, DCTERMS.modified, Literal(snapshot.created_at, datatype=XSD.dateTime)))
    formats = [f for f in ExportFormat if f != ExportFormat.GEOJSON or ds.geometry is not None]
    for fmt in formats:
        url = URIRef(f"{api}/catalog/datasets/{ds.id}/exports/{fmt.value}")
        dist = URIRef(f"{url}#distribution")
        g.add((node, DCAT.distribution, dist))
        g.add((dist, RDF.type, DCAT.Distribution))
        g.add((dist, DCTERMS.title, Literal(f"{ds.title} ({fmt.value.upper()})", lang="fr")))
        g.add((dist, DCAT.accessURL, url))
        g.add((dist, DCAT.downloadURL, url))
        g.add((dist, DCTERMS.format, EU_FILE_TYPE[FILE_TYPES[fmt]]))
        g.add((dist, DCAT.mediaType, URIRef(IANA + MEDIA_TYPES[fmt].split(";")[0])))
        g.add((dist, DCTERMS.license, licence))
        if snapshot is not None:
            g.add((dist, DCTERMS.modified, Literal(snapshot.created_at, datatype=XSD.dateTime)))


def jsonld(graph: Graph) -> bytes:
    """The graph in JSON-LD, with the usual prefixes as its context."""
    return graph.serialize(format="json-ld", context=JSONLD_CONTEXT, auto_compact=True).encode()


def turtle(graph: Graph) -> bytes:
    """The graph in Turtle."""
    return graph.serialize(format="turtle").encode()
