"""Rendering for people: terminal tables now, reports later."""
