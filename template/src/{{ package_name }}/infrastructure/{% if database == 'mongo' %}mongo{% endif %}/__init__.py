"""MongoDB through PyMongo's asyncio client: the client, its errors, and the migrations."""
