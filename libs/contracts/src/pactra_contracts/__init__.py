"""Pactra's contracts: the event envelope and catalogue, and the public API's shapes.

Publishing and consuming go through these models only, so a change of meaning is a new
version here, never a silent edit in one service.
"""
