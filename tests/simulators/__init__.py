"""Contract tests of the simulators, written from ../shared/marketplaces/."""
