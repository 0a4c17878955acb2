"""One contract suite for every registered connector, run against its simulator."""
