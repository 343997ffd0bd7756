"""Domain logic as plain functions and classes; controllers stay thin and call these."""
