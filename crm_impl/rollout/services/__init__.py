"""rollout/services"""
