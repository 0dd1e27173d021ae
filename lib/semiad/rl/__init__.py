"""Reinforcement-learning anomaly detectors (gymnasium environments + stable-baselines3 agents)."""
