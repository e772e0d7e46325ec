"""core/ui"""
