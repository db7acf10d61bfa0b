"""The hidden check suite (never released to students); run it with autograder.run_checks."""
