"""Evaluation: strict and official APIBench accuracy, hallucination, abstention and retrieval recall."""
