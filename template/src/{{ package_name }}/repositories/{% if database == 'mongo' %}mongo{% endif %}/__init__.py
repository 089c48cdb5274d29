"""Repositories over MongoDB through PyMongo's asyncio client."""
