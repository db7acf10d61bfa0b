"""The hidden check suite (never released to students); run it with autograder.checks.run_checks."""
