"""Plain Python: no ORM. Parsing, classification, signing; unit-tested without a database."""
