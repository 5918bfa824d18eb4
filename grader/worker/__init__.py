"""The untrusted side: a process that runs a student's notebook and serves calls.

Nothing in this subpackage may import the grader's tests, reference or grade
model; it is started as its own clean process by :mod:`grader.sandbox`.
"""
