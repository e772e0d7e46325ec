"""pipeline/queries"""
