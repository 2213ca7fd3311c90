"""Small helpers with no Beam pipeline imports."""
