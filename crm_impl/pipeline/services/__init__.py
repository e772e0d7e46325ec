"""pipeline/services"""
