"""The operator console: the built web application, the map's live states and the live
event stream it listens to."""
