"""Pure computation on plain values and GeoDataFrames: no files, no connections.

Hand-built polygons test everything here.
"""
