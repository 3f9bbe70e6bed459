"""The pure rules of consent: no I/O, no cryptography, nothing of the project but the events.

Given a subject's state and a command, ``decisions`` say which events to record; the
status is a fold of those events (``consent_status``). Everything here is a function of
its arguments, fast to test.
"""
