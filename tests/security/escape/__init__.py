"""The escape suite: hostile programs run for real through the server, judged by what they achieved.

`canaries.py` plants what a successful escape would reveal or change, `attempts.py` holds the
hostile programs as data, `test_escape.py` runs them through one real server process, and
`test_checks.py` proves that the checks themselves catch a leak.
"""
