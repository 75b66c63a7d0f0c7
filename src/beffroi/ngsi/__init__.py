"""NGSI-LD read facade: assets and their observations as FIWARE Smart Data Models."""
