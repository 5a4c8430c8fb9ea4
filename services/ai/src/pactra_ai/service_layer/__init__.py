"""The ai service's use cases: requesting, reading and running analyses, and its event
handlers, each on an abstract unit of work (unit_of_work.py) so that fakes can stand in."""
