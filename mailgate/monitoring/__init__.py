"""Monitoring alerts: messages a rule gave a fingerprint become one ticket per problem.

    groups   find the fingerprint's group; a repeat, a recovery, a return within the flap
             window or a note is handled here, a new problem opens a ticket (`open_alert`)
    team     who hears about an alert, and when (tens of mails, not thousands)
    storm    many new alert tickets from one source at once: one incident ticket above them

Called by the pipeline's alerts and rule-actions stages; ticket changes go through the
ticket service with source "rule".
"""
