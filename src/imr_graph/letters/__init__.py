"""Letters: reading a letter file (reading), parsing its text into a record (parsing), the
case summary (summary), guideline citations (guidelines) and the request reader (services)."""
