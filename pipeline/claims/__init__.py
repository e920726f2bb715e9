"""The claims stage: numeric market claims found in sentences and checked against prices."""
