"""What report cells call: views that read the tables and compute no dataset."""
